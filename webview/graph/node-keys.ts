// Keyboard access to the graph's nodes. Tab reaches each node in the file's order (React Flow
// makes them focusable); on a node, Enter or Space selects it and the arrow keys move to the
// neighbouring node (graph/keyboard.ts). A node focused by a click leaves the arrow keys to the
// step-through: only a node that got the focus from the keyboard (Tab, an arrow) moves between
// nodes. (Chrome's :focus-visible cannot tell: it turns on at the first key pressed.)
import { useCallback, useRef } from "react";
import { useReactFlow } from "@xyflow/react";
import { ARROWS, neighbour } from "./keyboard";
import { NODE_HEIGHT, NODE_WIDTH } from "./to-flow";

type Point = { readonly x: number; readonly y: number };

function nodeElement(id: string): HTMLElement | null {
  return document.querySelector<HTMLElement>(`.react-flow__node[data-id="${CSS.escape(id)}"]`);
}

export function useNodeKeys(at: ReadonlyMap<string, Point>, choose: (id: string) => void) {
  const flow = useReactFlow();
  const pending = useRef(0);
  const pointer = useRef(false);
  /** The node that has the focus from the keyboard, if any. */
  const byKeyboard = useRef<string | null>(null);

  /** Gives a node the keyboard focus, bringing it into view first when it is not drawn. */
  const reveal = useCallback(
    (id: string) => {
      cancelAnimationFrame(pending.current);
      const p = at.get(id);
      const inView = () => {
        const el = nodeElement(id);
        const area = el?.closest(".react-flow")?.getBoundingClientRect();
        const box = el?.getBoundingClientRect();
        return el &&
          area &&
          box &&
          box.left >= area.left &&
          box.right <= area.right &&
          box.top >= area.top &&
          box.bottom <= area.bottom
          ? el
          : null;
      };
      if (!inView() && p)
        void flow.setCenter(p.x + NODE_WIDTH / 2, p.y + NODE_HEIGHT / 2, {
          zoom: Math.max(flow.getZoom(), 0.5),
        });
      // The node is drawn once React Flow has moved the viewport: a few frames at most.
      let tries = 10;
      const focus = () => {
        const el = nodeElement(id);
        if (el) el.focus({ preventScroll: true });
        else if (tries-- > 0) pending.current = requestAnimationFrame(focus);
      };
      focus();
    },
    [at, flow],
  );

  const onKeyDown = useCallback(
    (e: React.KeyboardEvent) => {
      const el = (e.target as HTMLElement).closest<HTMLElement>(".react-flow__node");
      const id = el?.getAttribute("data-id");
      if (!el || !id) return;
      if (e.key === "Enter" || e.key === " ") {
        choose(id);
        e.preventDefault();
        return;
      }
      const direction = ARROWS[e.key];
      if (!direction || byKeyboard.current !== id) return;
      e.preventDefault();
      const next = neighbour(at, id, direction);
      if (next) reveal(next);
    },
    [at, choose, reveal],
  );

  const onPointerDownCapture = useCallback(() => void (pointer.current = true), []);
  const onFocus = useCallback((e: React.FocusEvent) => {
    const id = (e.target as HTMLElement).closest(".react-flow__node")?.getAttribute("data-id");
    byKeyboard.current = pointer.current ? null : (id ?? null);
    pointer.current = false;
  }, []);

  return { onKeyDown, onFocus, onPointerDownCapture, reveal };
}
