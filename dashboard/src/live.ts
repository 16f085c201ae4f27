/**
 * Live parts of the dashboard: a hook over the host's server-sent event streams
 * (`/api/host/events`, a plugin's log, an attestation watch). The browser's EventSource
 * reconnects by itself; `connected` says whether the stream is up, so a page can show it.
 */
import { useEffect, useRef, useState } from "preact/hooks";

/** Handlers by event name; each gets the event's data parsed from JSON. */
export type EventHandlers = Record<string, (data: any) => void>;

/**
 * Listens to `url` (none when undefined) while the component is shown; `handlers` may change
 * on every render (the latest are called). Returns whether the stream is connected.
 */
export function useEventStream(url: string | undefined, handlers: EventHandlers): boolean {
  const latest = useRef(handlers);
  latest.current = handlers;
  const [connected, setConnected] = useState(false);
  const names = Object.keys(handlers).sort().join(",");
  useEffect(() => {
    if (!url) return undefined;
    const source = new EventSource(url, { withCredentials: true });
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(false);
    for (const name of names.split(",")) {
      source.addEventListener(name, (event) => latest.current[name]?.(JSON.parse((event as MessageEvent<string>).data)));
    }
    return () => {
      source.close();
      setConnected(false);
    };
  }, [url, names]);
  return connected;
}
