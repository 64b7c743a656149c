// The page's globals, as the callbacks given to page.evaluate see them: the webview tests and the
// webview bench are compiled for Node, without the DOM library, and their callbacks run in the page.

interface PageElement {
  getAttribute(name: string): string | null;
  readonly textContent: string | null;
  matches(selector: string): boolean;
  closest(selector: string): PageElement | null;
}

declare const window: {
  postMessage(message: unknown, origin: string): void;
  __posted: { type: string; ref?: string; id?: string }[];
};

declare const document: {
  querySelectorAll(selector: string): ArrayLike<PageElement>;
  querySelector(selector: string): PageElement | null;
  readonly activeElement: PageElement | null;
  elementFromPoint(x: number, y: number): PageElement | null;
};

declare function getComputedStyle(element: unknown): {
  readonly boxShadow: string;
  readonly borderTopColor: string;
};
