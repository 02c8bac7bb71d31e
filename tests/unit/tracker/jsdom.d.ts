// The part of jsdom's API the tracker's wiring test uses (the package ships no
// type declarations and @types/jsdom lags its major versions).
declare module 'jsdom' {
  export type DOMWindow = Window & typeof globalThis;
  export class VirtualConsole {
    on(event: 'jsdomError', listener: (error: Error) => void): this;
  }
  export type Interceptor = unknown;
  export function requestInterceptor(
    fn: (request: Request, context: { element: Element | null }) => Response | undefined | Promise<Response | undefined>,
  ): Interceptor;
  export type JSDOMOptions = {
    url?: string;
    referrer?: string;
    runScripts?: 'dangerously' | 'outside-only';
    resources?: 'usable' | { interceptors?: Interceptor[] };
    virtualConsole?: VirtualConsole;
    beforeParse?: (window: DOMWindow) => void;
  };
  export class JSDOM {
    constructor(html?: string, options?: JSDOMOptions);
    readonly window: DOMWindow;
  }
}
