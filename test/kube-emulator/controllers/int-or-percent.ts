/**
 * `intstr.GetScaledValueFromIntOrPercent`: an integer as is, `"25%"` of `total`, rounded up or down.
 * Anything else counts as 0.
 */
export function scaledValue(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return Math.max(0, Math.trunc(value));
  if (typeof value === 'string') {
    const percent = /^(\d+)%$/.exec(value);
    if (percent?.[1] !== undefined) {
      const exact = (Number(percent[1]) * total) / 100;
      return roundUp ? Math.ceil(exact) : Math.floor(exact);
    }
    if (/^\d+$/.test(value)) return Number(value);
  }
  return 0;
}
