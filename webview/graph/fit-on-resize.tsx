// Keeps the whole graph in view when its area changes size (the panel is resized, the inspector
// opens): the panel draws only the nodes on screen, so a graph left half outside would hide them.
import { useEffect, useRef } from "react";
import { useReactFlow } from "@xyflow/react";

export function FitOnResize(props: { readonly target: React.RefObject<HTMLElement | null> }) {
  const flow = useReactFlow();
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => {
    const element = props.target.current;
    if (!element) return;
    const observer = new ResizeObserver(() => {
      clearTimeout(timer.current);
      timer.current = setTimeout(() => void flow.fitView(), 50);
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      clearTimeout(timer.current);
    };
  }, [flow, props.target]);
  return null;
}
