// Quantities written the way Go's resource.Quantity prints them (canonical form): the
// largest suffix that keeps the number whole. metrics.k8s.io and HPA statuses use these.

const DECIMAL_SUFFIX: Record<number, string> = { [-9]: 'n', [-6]: 'u', [-3]: 'm', 0: '', 3: 'k', 6: 'M', 9: 'G', 12: 'T', 15: 'P', 18: 'E' };
const BINARY_SUFFIX = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/**
 * A whole number of 10^exponent units in DecimalSI: (12345, -9) → "12345n", (12000, -9) →
 * "12u", (1500, -3) → "1500m", (2000, -3) → "2". The value is rounded to a whole number first.
 */
export function formatDecimalQuantity(value: number, exponent: -9 | -6 | -3 | 0 = 0): string {
  let v = BigInt(Math.round(value));
  if (v === 0n) return '0';
  let exp: number = exponent;
  while (v % 1000n === 0n && exp < 18) { v /= 1000n; exp += 3; }
  return `${v}${DECIMAL_SUFFIX[exp]}`;
}

/** Bytes in BinarySI: 4096 → "4Ki", 1572864 → "1536Ki", 1000 → "1000". */
export function formatBinaryQuantity(bytes: number): string {
  let v = BigInt(Math.round(bytes));
  if (v === 0n) return '0';
  let i = 0;
  while (v % 1024n === 0n && i < BINARY_SUFFIX.length - 1) { v /= 1024n; i++; }
  return `${v}${BINARY_SUFFIX[i]}`;
}
