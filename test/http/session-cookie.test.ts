import { describe, expect, it } from 'vitest';
import {
  cookieValue,
  csrfMatches,
  csrfTokenOf,
  sessionSetCookie,
  signSession,
  verifySession,
} from '../../src/http/session-cookie.js';
import { safeNext } from '../../src/http/login-router.js';

const OPS = 'ops-token-0123456789abcdef';
const ADMIN = 'admin-token-0123456789abcdef';
const tokens = { opsToken: OPS, adminToken: ADMIN };
const T0 = new Date('2026-12-02T06:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

describe('verifySession', () => {
  const ops = signSession('ops', at(3600), tokens);
  const admin = signSession('admin', at(3600), tokens);
  const [v, role, expiry, mac] = ops.split('.');
  it.each<[string, string | undefined, object, Date, object]>([
    ['an ops session within its lifetime', ops, tokens, at(0), { session: { role: 'ops' } }],
    [
      'an admin session within its lifetime',
      admin,
      tokens,
      at(3599),
      { session: { role: 'admin' } },
    ],
    ['a session at its expiry second', ops, tokens, at(3600), { refused: 'expired' }],
    ['a session after its expiry', ops, tokens, at(86_400), { refused: 'expired' }],
    ['no cookie', undefined, tokens, at(0), { refused: 'malformed' }],
    ['an empty cookie', '', tokens, at(0), { refused: 'malformed' }],
    ['a value of three parts', `${v}.${role}.${expiry}`, tokens, at(0), { refused: 'malformed' }],
    ['another version', `v2.${role}.${expiry}.${mac}`, tokens, at(0), { refused: 'malformed' }],
    ['a non-numeric expiry', `${v}.${role}.soon.${mac}`, tokens, at(0), { refused: 'malformed' }],
    ['an unknown role', `${v}.root.${expiry}.${mac}`, tokens, at(0), { refused: 'unknown-role' }],
    [
      'the role changed to admin (the MAC no longer fits)',
      `${v}.admin.${expiry}.${mac}`,
      tokens,
      at(0),
      { refused: 'bad-signature' },
    ],
    [
      'the expiry pushed back',
      `${v}.${role}.${Number(expiry) + 86_400}.${mac}`,
      tokens,
      at(0),
      { refused: 'bad-signature' },
    ],
    ['a truncated MAC', ops.slice(0, -2), tokens, at(0), { refused: 'bad-signature' }],
    [
      'the ops token rotated since',
      ops,
      { opsToken: `${OPS}-new`, adminToken: ADMIN },
      at(0),
      { refused: 'bad-signature' },
    ],
    [
      'an admin session once CVM_ADMIN_TOKEN is unset',
      admin,
      { opsToken: OPS },
      at(0),
      { refused: 'unknown-role' },
    ],
    [
      'an admin session checked with the two tokens swapped (each role has its own key)',
      admin,
      { opsToken: ADMIN, adminToken: OPS },
      at(0),
      { refused: 'bad-signature' },
    ],
  ])('%s', (_name, value, keys, now, expected) => {
    expect(verifySession(value, keys, now)).toMatchObject(expected);
  });

  it('carries the expiry, to the second', () => {
    const result = verifySession(signSession('ops', at(90.7), tokens), tokens, at(0));
    expect(result).toEqual({ session: { role: 'ops', expiresAt: at(90) } });
  });

  it('cannot sign for a role whose token is not set', () => {
    expect(() => signSession('admin', at(60), { opsToken: OPS })).toThrow(/admin role/);
  });
});

describe('the CSRF value of a session', () => {
  const session = signSession('admin', at(3600), tokens);
  const other = signSession('admin', at(7200), tokens);
  const csrf = csrfTokenOf(session, 'admin', tokens)!;
  it.each<[string, string | undefined, string, boolean]>([
    ['its own value', csrf, session, true],
    ['no header', undefined, session, false],
    ['the value of another session', csrfTokenOf(other, 'admin', tokens), session, false],
    ['the session cookie itself', session, session, false],
    ['a prefix of the value', csrf.slice(0, -1), session, false],
  ])('%s', (_name, offered, cookie, matches) => {
    expect(csrfMatches(offered, cookie, 'admin', tokens)).toBe(matches);
  });
});

describe('cookieValue', () => {
  it.each<[string, string | undefined, string | undefined]>([
    ['the only cookie', 'cvm_session=abc', 'abc'],
    ['among others, with spaces', 'a=1; cvm_session=v1.ops.1.x ; b=2', 'v1.ops.1.x'],
    ['a cookie whose name ends the same', 'xcvm_session=nope', undefined],
    ['no header', undefined, undefined],
  ])('%s', (_name, header, expected) => {
    expect(cookieValue(header, 'cvm_session')).toBe(expected);
  });
});

describe('sessionSetCookie', () => {
  it.each<[string, boolean, string]>([
    ['over http', false, 'cvm_session=v; Path=/; Max-Age=60; HttpOnly; SameSite=Strict'],
    ['over https', true, 'cvm_session=v; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure'],
  ])('%s', (_name, secure, expected) => {
    expect(sessionSetCookie('v', { maxAgeSeconds: 60, secure })).toBe(expected);
  });
});

describe('safeNext (no open redirect after login)', () => {
  it.each<[unknown, string]>([
    ['/', '/'],
    ['/admin/queues/', '/admin/queues/'],
    ['/#/cv/shop/api', '/#/cv/shop/api'],
    ['https://evil.example/', '/'],
    ['//evil.example/', '/'],
    ['/\\evil.example', '/'],
    ['/\nSet-Cookie: x', '/'],
    [undefined, '/'],
    [['/a'], '/'],
  ])('%j → %s', (next, expected) => {
    expect(safeNext(next)).toBe(expected);
  });
});
