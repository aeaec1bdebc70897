import type { EngineImage } from '../engine/image-lookup.js';
import type { PullEvent, RateLimitWords } from '../decode/pull-event.js';

/** Byte counts in decimal units, as the docker CLI and registries report them. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/** `current/total unit` with one unit for both, so `61.2/145 MB` reads at a glance. */
export function formatProgress(current: number, total: number): string {
  const [totalValue, unit] = formatBytes(total).split(' ');
  const scale = Number(totalValue) === 0 ? 1 : total / Number(totalValue);
  const currentValue = current / scale;
  const digits = totalValue.includes('.') ? 1 : currentValue >= 100 || unit === 'B' ? 0 : 1;
  return `${currentValue.toFixed(digits)}/${totalValue} ${unit}`;
}

export const formatSpeed = (bytesPerSecond: number) => `${formatBytes(bytesPerSecond)}/s`;

export const formatPercent = (current: number, total: number) =>
  `${Math.min(100, Math.floor((current * 100) / total))}%`;

/** Layers whose bytes are all in but which are not done yet. */
export const unpackingPart = (layers: number) => `unpacking ${layers} layer${layers === 1 ? '' : 's'}`;

/** The engine's view of a pulled image in words: `sha256:3227fda12a33`, `50.3 MB on disk`, `linux/amd64`. */
export function imageParts(image: EngineImage | undefined): string[] {
  if (image === undefined) return [];
  return [
    ...(image.id !== undefined ? [image.id.replace(/^(sha256:)?([0-9a-f]{12})[0-9a-f]*$/, '$1$2')] : []),
    ...(image.images !== undefined ? [`${image.images} image${image.images === 1 ? '' : 's'}`] : []),
    ...(image.size !== undefined ? [`${formatBytes(image.size)} on disk`] : []),
    ...(image.platform !== undefined ? [image.platform] : []),
    ...(image.rateLimit !== undefined ? [pullsLeft(image.rateLimit)] : []),
  ];
}

/** --load's account of one engine: `sent 2.0 MB to unix:///…; 9.0 MB of layers it has were not sent`. */
export function loadWords(load: { engine: string; sentBytes: number; skippedBytes: number; upToDate: boolean }): string {
  if (load.upToDate) return `nothing sent to ${load.engine}: it has the image`;
  return `sent ${formatBytes(load.sentBytes)} to ${load.engine}${load.skippedBytes > 0 ? `; ${formatBytes(load.skippedBytes)} of layers it has were not sent` : ''}`;
}

/** `95 of 100 pulls left per 6h at docker.io`. */
export function pullsLeft(limit: RateLimitWords): string {
  const window = limit.windowSeconds !== undefined ? ` per ${per(limit.windowSeconds)}` : '';
  return limit.remaining !== undefined && limit.limit !== undefined
    ? `${limit.remaining} of ${limit.limit} pulls left${window} at ${limit.registry}`
    : `${limit.remaining ?? limit.limit} pulls left at ${limit.registry}`;
}

const per = (seconds: number) => (seconds % 3600 === 0 ? `${seconds / 3600}h` : seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`);

/**
 * A retry in words, `secondsLeft` of its wait to go:
 * `retrying in 4s (attempt 2 of 4): received unexpected HTTP status: 503 Service Unavailable`, or
 * `rate limited by docker.io: 0 of 100 pulls left per 6h; retrying in 30s (attempt 2 of 4)`.
 */
export function retryWords(retry: Extract<PullEvent, { type: 'retry' }>, secondsLeft: number): string {
  const wait = `retrying in ${Math.max(0, Math.ceil(secondsLeft))}s (attempt ${retry.attempt} of ${retry.of})`;
  const limit = retry.rateLimit;
  if (limit === undefined) return `${wait}: ${retry.reason}`;
  const left = limit.remaining !== undefined && limit.limit !== undefined ? `: ${pullsLeft(limit).replace(/ at \S+$/, '')}` : '';
  return `rate limited by ${limit.registry}${left}; ${wait}`;
}
