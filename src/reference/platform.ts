/** An image's platform as the docker CLI names it: `linux/amd64`, `linux/arm64/v8`. */
export function formatPlatform(platform: { os?: string; architecture?: string; variant?: string } | undefined): string {
  return [platform?.os, platform?.architecture, ...(platform?.variant ? [platform.variant] : [])].join('/');
}
