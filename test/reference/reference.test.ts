import { describe, expect, test } from 'vitest';
import { formatReference, parseReference, withDefaultTag } from '../../src/reference/reference.js';
import { DpullError } from '../../src/errors.js';

const digest = `sha256:${'a'.repeat(64)}`;

describe('a reference is normalised the way the docker CLI does it', () => {
  test.each([
    ['nginx', 'docker.io/library/nginx:latest'],
    ['nginx:1.27', 'docker.io/library/nginx:1.27'],
    ['user/app', 'docker.io/user/app:latest'],
    ['docker.io/nginx', 'docker.io/library/nginx:latest'],
    ['index.docker.io/user/app:2', 'docker.io/user/app:2'],
    ['localhost/a', 'localhost/a:latest'],
    ['localhost:5000/a/b:1', 'localhost:5000/a/b:1'],
    ['127.0.0.1:5000/x', '127.0.0.1:5000/x:latest'],
    ['[::1]:5000/x:y', '[::1]:5000/x:y'],
    [`ghcr.io/o/r@${digest}`, `ghcr.io/o/r@${digest}`],
    [`alpine:3.20@${digest}`, `docker.io/library/alpine:3.20@${digest}`],
    ['my-registry.example.com/team/app_x.y-z:v1.2.3-rc_1', 'my-registry.example.com/team/app_x.y-z:v1.2.3-rc_1'],
  ])('%s → %s', (input, expected) => {
    expect(formatReference(withDefaultTag(parseReference(input)))).toBe(expected);
  });

  test('fromImage is the full name and tag and digest are kept apart', () => {
    expect(parseReference(`127.0.0.1:5000/demo/app:1.4@${digest}`)).toEqual({
      domain: '127.0.0.1:5000',
      path: 'demo/app',
      name: '127.0.0.1:5000/demo/app',
      tag: '1.4',
      digest,
    });
  });
});

describe('an invalid reference is refused with a usage error (exit 2)', () => {
  test.each([
    ['Bad/Name', 'invalid reference format: repository name (Name) must be lowercase'],
    ['Foo', 'invalid reference format: repository name (library/Foo) must be lowercase'],
    ['a:b:c', 'invalid reference format: expected [registry/]name[:tag][@digest] (in "a:b:c")'],
    ['', 'invalid reference format: the image name is empty'],
    ['x@sha256:abc', 'invalid reference format: the digest must look like sha256:<64 hex digits> (in "x@sha256:abc")'],
    [`x@sha256:${'A'.repeat(64)}`, 'invalid reference format: the digest must look like sha256:<64 lowercase hex digits>'],
    [`x@md5:${'a'.repeat(32)}`, 'invalid reference format: unsupported digest algorithm "md5" (sha256, sha384 and sha512 are)'],
    [`x@sha256+b64:${'a'.repeat(64)}`, 'invalid reference format: unsupported digest algorithm "sha256+b64"'],
    ['A:a:b', 'invalid reference format: repository name (library/A) must be lowercase'],
    ['a:', 'invalid reference format: expected'],
    ['-a', 'invalid reference format: expected'],
    ['a//b', 'invalid reference format: expected'],
    [`a:${'t'.repeat(129)}`, 'invalid reference format: expected'],
    ['e'.repeat(64), `invalid repository name (${'e'.repeat(64)}), cannot specify 64-byte hexadecimal strings`],
    // The limit is the repository path's, not the registry's and path's together.
    [`x/${'a'.repeat(254)}`, 'invalid reference format: repository name must not be more than 255 characters'],
  ])('%j', (input, message) => {
    let error: unknown;
    try {
      parseReference(input);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DpullError);
    expect((error as DpullError).exitCode).toBe(2);
    expect((error as DpullError).message).toContain(message);
  });
});
