// The command's V8 settings for a pull from a registry, made by bin/v8-settings.js and handed to
// the command's main(). A library's host process keeps its own: nothing is set unless the command
// gave a way to.

let forRegistryPull: (() => void) | undefined;

/** The command's way to switch to a registry pull's settings. */
export function setRegistryPullSettings(use: (() => void) | undefined): void {
  forRegistryPull = use;
}

/** A pull from a registry starts: the command's settings for it, if there are any. */
export function useRegistryPullSettings(): void {
  forRegistryPull?.();
}
