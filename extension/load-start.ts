// Imported first by main.ts, so that this runs before the rest of the extension's code is
// loaded: the activation log line reports loading and activating together.
export const loadStart = performance.now();
