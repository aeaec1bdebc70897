/** A namespace or snapshotter name as containerd takes one (its identifiers package: at most 76 characters). */
export const isContainerdIdentifier = (name: string) => name.length <= 76 && /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/.test(name);
