// The supervisor reads a sockaddr out of the target's memory as bytes: parsing (and the unix sockaddr it
// builds for an emulated connect) is pure translation, checked here against the kernel's layouts.
import * as assert from 'node:assert/strict';
import { AF_INET, AF_INET6, AF_UNIX, describeAddr, parseSockaddr, unixSockaddr } from '../../../native/linux/sockaddr';

function inet(ip: number[], port: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(AF_INET, 0);
  b.writeUInt16BE(port, 2);
  Buffer.from(ip).copy(b, 4);
  return b;
}

function inet6(words: number[], port: number, scopeId = 0): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt16LE(AF_INET6, 0);
  b.writeUInt16BE(port, 2);
  words.forEach((w, i) => b.writeUInt16BE(w, 8 + 2 * i));
  b.writeUInt32LE(scopeId, 24);
  return b;
}

describe('sockaddr: parsing what the target passed', () => {
  it('AF_INET: address and port in network order', () => {
    assert.deepEqual(parseSockaddr(inet([169, 254, 169, 254], 80)), { family: 'inet', ip: '169.254.169.254', port: 80 });
    assert.equal(parseSockaddr(inet([127, 0, 0, 1], 443).subarray(0, 7)), null, 'too short for sockaddr_in');
  });

  it('AF_INET6: RFC 5952 text, IPv4-mapped written dotted (so IPv4 rules apply), scope id', () => {
    assert.deepEqual(parseSockaddr(inet6([0xfd00, 0, 0, 0, 0, 0, 0, 1], 22, 3)), { family: 'inet6', ip: 'fd00::1', port: 22, scopeId: 3 });
    assert.deepEqual(parseSockaddr(inet6([0, 0, 0, 0, 0, 0xffff, 0xa9fe, 0xa9fe], 80)), { family: 'inet6', ip: '::ffff:169.254.169.254', port: 80, scopeId: 0 });
    assert.equal((parseSockaddr(inet6([0, 0, 0, 0, 0, 0, 0, 1], 1)) as { ip: string }).ip, '::1');
    assert.equal((parseSockaddr(inet6([1, 0, 2, 0, 0, 3, 0, 0], 1)) as { ip: string }).ip, '1:0:2::3:0:0', 'only the longest zero run is compressed');
    assert.equal(parseSockaddr(inet6([0, 0, 0, 0, 0, 0, 0, 1], 1).subarray(0, 23)), null, 'too short for sockaddr_in6');
  });

  it('AF_UNIX: path, abstract name, unnamed', () => {
    const family = Buffer.alloc(2);
    family.writeUInt16LE(AF_UNIX, 0);
    assert.deepEqual(parseSockaddr(Buffer.concat([family, Buffer.from('/run/x.sock\0junk')])), { family: 'unix', path: '/run/x.sock', abstract: false, unnamed: false });
    assert.deepEqual(parseSockaddr(Buffer.concat([family, Buffer.from('\0name\0\0')])), { family: 'unix', path: '@name', abstract: true, unnamed: false });
    assert.deepEqual(parseSockaddr(family), { family: 'unix', path: '', abstract: false, unnamed: true });
  });

  it('other families and short buffers', () => {
    const nl = Buffer.alloc(12);
    nl.writeUInt16LE(16, 0);
    assert.deepEqual(parseSockaddr(nl), { family: 'other', af: 16 });
    assert.equal(parseSockaddr(Buffer.alloc(1)), null);
  });

  it('unixSockaddr builds what parseSockaddr reads back, and refuses a path longer than sun_path', () => {
    const b = unixSockaddr('/proc/self/fd/7')!;
    assert.deepEqual(parseSockaddr(b), { family: 'unix', path: '/proc/self/fd/7', abstract: false, unnamed: false });
    assert.equal(b[b.length - 1], 0, 'NUL-terminated');
    assert.equal(unixSockaddr('/' + 'a'.repeat(107)), null);
    assert.ok(unixSockaddr('/' + 'a'.repeat(106)));
  });

  it('describeAddr names each family as messages show it', () => {
    assert.equal(describeAddr({ family: 'inet', ip: '10.0.0.1', port: 5432 }), '10.0.0.1:5432');
    assert.equal(describeAddr({ family: 'inet6', ip: '::1', port: 80, scopeId: 0 }), '[::1]:80');
    assert.equal(describeAddr({ family: 'unix', path: '@x', abstract: true, unnamed: false }), 'unix:@x');
    assert.equal(describeAddr({ family: 'unix', path: '', abstract: false, unnamed: true }), 'unix:(unnamed)');
    assert.equal(describeAddr({ family: 'other', af: 16 }), 'family 16');
  });
});
