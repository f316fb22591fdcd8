/** A step of `npm run demo` failed or timed out: its message says what, without a stack trace. */
export class DemoFailure extends Error {}
