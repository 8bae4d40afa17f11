// decideAddress and parseIpLiteral: every blocked category, the odd encodings, presets, host rules.
import * as assert from 'node:assert/strict';
import { decideAddress, describeAddress, hostMatches, parseIpLiteral, resolvePolicy, type PolicyInput } from '../../../src/policy';

const CTX = { workspace: '/work/proj', home: '/home/u' };
const pol = (network: PolicyInput['network'] = {}, profile: PolicyInput['profile'] = 'moderate') => resolvePolicy({ run: { profile, network } }, CTX).policy;

describe('policy/parseIpLiteral', () => {
  const table: Array<[string, string | null]> = [
    ['169.254.169.254', '169.254.169.254'],
    ['2852039166', '169.254.169.254'], // decimal
    ['0xA9FEA9FE', '169.254.169.254'], // hex
    ['0xa9.0xfe.0xa9.0xfe', '169.254.169.254'],
    ['0251.0376.0251.0376', '169.254.169.254'], // octal
    ['169.254.43518', '169.254.169.254'], // a.b.(16 bits)
    ['169.16689662', '169.254.169.254'], // a.(24 bits)
    ['127.1', '127.0.0.1'],
    ['0', '0.0.0.0'],
    ['017700000001', '127.0.0.1'],
    ['::ffff:169.254.169.254', '::ffff:169.254.169.254'],
    ['[::FFFF:A9FE:A9FE]', '::ffff:169.254.169.254'],
    ['FD00:EC2:0:0:0:0:0:254', 'fd00:ec2::254'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first longest run
    ['fe80::1%eth0', 'fe80::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['256.1.1.1', null],
    ['1.2.3.256', null],
    ['08.1.1.1', null], // 8 is no octal digit
    ['4294967296', null],
    ['1.2.3.4.5', null],
    ['0x', null],
    ['example.com', null],
    ['1::2::3', null],
    ['12345::1', null],
    ['', null],
  ];
  for (const [input, out] of table) {
    it(`${JSON.stringify(input)} → ${out}`, () => assert.equal(parseIpLiteral(input), out));
  }

  it('describeAddress says what an address really is', () => {
    assert.deepEqual(describeAddress('0xA9FEA9FE')?.classification.category, 'cloud-metadata');
    const m = describeAddress('::ffff:10.1.2.3')!;
    assert.equal(m.canonical, '::ffff:10.1.2.3');
    assert.equal(m.effective, '10.1.2.3');
    assert.equal(m.classification.category, 'private');
    assert.equal(describeAddress('64:ff9b::a9fe:a9fe')?.classification.category, 'cloud-metadata'); // NAT64
    assert.equal(describeAddress('nope'), null);
  });
});

describe('policy/decideAddress', () => {
  const def = pol();

  const blocked: Array<[string, number, RegExp]> = [
    ['169.254.169.254', 80, /^cloud-metadata:169\.254\.169\.254$/],
    ['2852039166', 80, /^cloud-metadata:169\.254\.169\.254$/],
    ['0xA9FEA9FE', 80, /^cloud-metadata:/],
    ['0251.0376.0251.0376', 80, /^cloud-metadata:/],
    ['169.254.43518', 80, /^cloud-metadata:/],
    ['::ffff:169.254.169.254', 80, /^cloud-metadata:169\.254\.169\.254$/],
    ['64:ff9b::a9fe:a9fe', 80, /^cloud-metadata:/],
    ['fd00:ec2::254', 80, /^cloud-metadata:fd00:ec2::254$/],
    ['fd20:ce::254', 80, /^cloud-metadata:/],
    ['168.63.129.16', 80, /^cloud-metadata:/],
    ['100.100.100.200', 80, /^cloud-metadata:/],
    ['169.254.170.2', 80, /^cloud-metadata:/],
    ['169.254.1.1', 80, /^link-local:169\.254\.0\.0\/16$/],
    ['fe80::1', 80, /^link-local:fe80::\/10$/],
    ['10.1.2.3', 80, /^private:10\.0\.0\.0\/8$/],
    ['172.16.0.1', 80, /^private:172\.16\.0\.0\/12$/],
    ['172.31.255.255', 80, /^private:/],
    ['192.168.0.1', 80, /^private:192\.168\.0\.0\/16$/],
    ['100.64.0.1', 80, /^private:100\.64\.0\.0\/10$/],
    ['fd12:3456::1', 80, /^private:fc00::\/7$/],
    ['::ffff:10.0.0.1', 80, /^private:10\.0\.0\.0\/8$/],
    ['127.0.0.1', 80, /^loopback:127\.0\.0\.0\/8$/],
    ['127.0.0.5', 9, /^loopback:/],
    ['::1', 80, /^loopback:::1\/128$/],
    ['::ffff:127.0.0.1', 80, /^loopback:/],
    ['0.0.0.0', 80, /^unspecified:/],
    ['::', 80, /^unspecified:/],
    ['224.0.0.251', 5353, /^multicast:/],
    ['ff02::fb', 5353, /^multicast:/],
    ['255.255.255.255', 80, /^reserved:/],
    ['8.8.8.8', 22, /^blocked-port:22$/],
    ['8.8.8.8', 3389, /^blocked-port:3389$/],
    ['8.8.8.8', 5901, /^blocked-port:5901$/],
    ['8.8.8.8', 6379, /^blocked-port:6379$/],
    ['2606:4700::1111', 445, /^blocked-port:445$/],
    ['not-an-ip', 80, /^invalid-address$/],
  ];
  for (const [ip, port, rule] of blocked) {
    it(`default preset blocks ${ip}:${port}`, () => {
      const d = decideAddress(def, ip, port);
      assert.equal(d.allowed, false, d.reason);
      assert.match(d.rule, rule);
      assert.ok(d.reason.length > 10);
    });
  }

  it('metadata reasons say metadata; blocked-port reasons name the service', () => {
    assert.match(decideAddress(def, '169.254.169.254', 80).reason, /metadata/);
    assert.match(decideAddress(def, '::ffff:169.254.169.254', 80).reason, /^::ffff:169\.254\.169\.254 \(IPv4 169\.254\.169\.254\) is a cloud metadata/);
    assert.match(decideAddress(def, '8.8.8.8', 22).reason, /22 \(SSH\)/);
  });

  it('default preset allows public addresses on ordinary ports', () => {
    assert.deepEqual(decideAddress(def, '93.184.216.34', 443), { allowed: true, rule: 'preset:default', reason: '93.184.216.34 is a public address; network preset default allows the public internet' });
    assert.equal(decideAddress(def, '2606:4700::1111', 443).allowed, true);
    assert.equal(decideAddress(def, '172.32.0.1', 80).allowed, true); // just outside 172.16/12
  });

  it('allowAddresses unlocks loopback/private ranges, but not blocked ports unless it names the port', () => {
    const p = pol({ allowAddresses: ['127.0.0.1/32:8080', '10.0.0.0/8', '[::1]:3000', '127.0.0.0/8'] });
    assert.equal(decideAddress(p, '127.0.0.1', 8080).rule, 'allowAddresses:127.0.0.1/32:8080');
    assert.equal(decideAddress(p, '10.9.9.9', 80).rule, 'allowAddresses:10.0.0.0/8');
    assert.equal(decideAddress(p, '::1', 3000).allowed, true);
    assert.equal(decideAddress(p, '::1', 3001).allowed, false);
    assert.equal(decideAddress(p, '127.0.0.1', 22).rule, 'blocked-port:22');
    assert.equal(decideAddress(p, '127.0.0.1', 6379).rule, 'blocked-port:6379');
    const named = pol({ allowAddresses: ['127.0.0.1/32:5432'] });
    assert.equal(decideAddress(named, '127.0.0.1', 5432).allowed, true);
  });

  it('metadata is unlocked only by an entry naming exactly that address', () => {
    for (const wide of ['0.0.0.0/0', '169.254.0.0/16', '::/0']) {
      assert.equal(decideAddress(pol({ allowAddresses: [wide] }), '169.254.169.254', 80).allowed, false, wide);
    }
    assert.equal(decideAddress(pol({ allowAddresses: ['169.254.169.254/32'] }), '169.254.169.254', 80).allowed, true);
    assert.equal(decideAddress(pol({ allowAddresses: ['169.254.169.254'] }), '0xA9FEA9FE', 80).allowed, true);
  });

  it('metadata host names are blocked whatever address they resolve to', () => {
    const p = pol({ allowAddresses: ['127.0.0.9/32'], allowHosts: ['metadata.google.internal'] });
    const d = decideAddress(p, '127.0.0.9', 80, 'metadata.google.internal');
    assert.equal(d.allowed, false);
    assert.equal(d.rule, 'cloud-metadata:metadata.google.internal');
    assert.equal(decideAddress(p, '127.0.0.9', 80, 'METADATA.google.internal.').allowed, false);
  });

  it('unspecified addresses are never allowed', () => {
    assert.equal(decideAddress(pol({ allowAddresses: ['0.0.0.0/0'] }), '0.0.0.0', 8080).allowed, false);
  });

  it('none preset blocks every IP address', () => {
    const p = pol({}, 'strict');
    assert.equal(p.network.preset, 'none');
    assert.equal(decideAddress(p, '93.184.216.34', 443).rule, 'preset:none');
    assert.equal(decideAddress(pol({ preset: 'none', allowAddresses: ['127.0.0.1/32'] }), '127.0.0.1', 80).rule, 'preset:none');
  });

  it('strict preset: only allowHosts by name and allowAddresses', () => {
    const p = pol({ preset: 'strict', allowHosts: ['api.allowed.test', '*.cdn.test'], allowAddresses: ['203.0.113.0/24'] });
    assert.equal(decideAddress(p, '93.184.216.34', 443).rule, 'preset:strict(not-allowed)');
    assert.equal(decideAddress(p, '93.184.216.34', 443, 'api.allowed.test').rule, 'allowHosts:api.allowed.test');
    assert.equal(decideAddress(p, '93.184.216.34', 8443, 'x.cdn.test').allowed, true);
    assert.equal(decideAddress(p, '93.184.216.34', 443, 'cdn.test').allowed, false);
    assert.equal(decideAddress(p, '203.0.113.7', 8080).rule, 'allowAddresses:203.0.113.0/24');
    assert.equal(decideAddress(p, '127.0.0.7', 8000, 'api.allowed.test').allowed, true); // an allowed name on loopback
    assert.equal(decideAddress(p, '127.0.0.8', 8000, 'evil.other.test').rule, 'loopback:127.0.0.0/8');
    assert.equal(decideAddress(p, '93.184.216.34', 22, 'api.allowed.test').rule, 'blocked-port:22');
  });

  it('api-only preset: allowed hosts on port 443 only (an address entry with a port may name another)', () => {
    const p = pol({ preset: 'api-only', allowHosts: ['api.example.com'], allowAddresses: ['198.51.100.0/24', '198.51.100.9/32:8443'] });
    assert.equal(decideAddress(p, '93.184.216.34', 443, 'api.example.com').allowed, true);
    assert.equal(decideAddress(p, '93.184.216.34', 80, 'api.example.com').rule, 'preset:api-only(port-443-only)');
    assert.equal(decideAddress(p, '93.184.216.34', 443, 'other.example.com').rule, 'preset:api-only(not-allowed)');
    assert.equal(decideAddress(p, '198.51.100.1', 443).allowed, true);
    assert.equal(decideAddress(p, '198.51.100.1', 80).allowed, false);
    assert.equal(decideAddress(p, '198.51.100.9', 8443).allowed, true);
  });

  it('denyHosts with wildcards always win', () => {
    const p = pol({ preset: 'strict', allowHosts: ['*.example.com', 'example.com'], denyHosts: ['*.evil.example.com', 'example.com', '10.0.0.5'], allowAddresses: ['10.0.0.0/8'] });
    assert.equal(decideAddress(p, '93.184.216.34', 443, 'a.evil.example.com').rule, 'denyHosts:*.evil.example.com');
    assert.equal(decideAddress(p, '93.184.216.34', 443, 'x.y.evil.example.com').allowed, false);
    assert.equal(decideAddress(p, '93.184.216.34', 443, 'evil.example.com').allowed, true); // *.x does not match x
    assert.equal(decideAddress(p, '93.184.216.34', 443, 'example.com').rule, 'denyHosts:example.com');
    assert.equal(decideAddress(p, '10.0.0.5', 443).rule, 'denyHosts:10.0.0.5');
    assert.equal(decideAddress(p, '10.0.0.6', 443).allowed, true);
  });

  it('an IP literal on allowHosts matches the address without a name', () => {
    const p = pol({ preset: 'strict', allowHosts: ['203.0.113.5'] });
    assert.equal(decideAddress(p, '203.0.113.5', 443).rule, 'allowHosts:203.0.113.5');
    assert.equal(decideAddress(p, '::ffff:203.0.113.5', 443).allowed, true);
    assert.equal(decideAddress(p, '203.0.113.6', 443).allowed, false);
  });

  it('hostMatches', () => {
    assert.ok(hostMatches('*.example.com', 'sub.example.com'));
    assert.ok(hostMatches('*.example.com', 'a.b.example.com'));
    assert.ok(!hostMatches('*.example.com', 'example.com'));
    assert.ok(!hostMatches('*.example.com', 'badexample.com'));
    assert.ok(hostMatches('api-*.x.io', 'api-eu.x.io'));
    assert.ok(!hostMatches('api-*.x.io', 'api-eu.y.x.io'));
    assert.ok(hostMatches('Example.COM.', 'example.com'));
    assert.ok(hostMatches('*', 'anything'));
    assert.ok(!hostMatches('example.com', undefined));
  });
});

describe('policy/decideAddress: one decision for every allowed connection', () => {
  const def = pol();

  const special: Array<[string, RegExp]> = [
    ['192.0.2.1', /^reserved:192\.0\.2\.0\/24$/],
    ['198.51.100.7', /^reserved:198\.51\.100\.0\/24$/],
    ['203.0.113.9', /^reserved:203\.0\.113\.0\/24$/],
    ['198.18.0.1', /^reserved:198\.18\.0\.0\/15$/],
    ['198.19.255.254', /^reserved:198\.18\.0\.0\/15$/],
    ['192.0.0.8', /^reserved:192\.0\.0\.0\/24$/],
    ['0.1.2.3', /^unspecified:0\.0\.0\.0\/8$/],
    ['100.127.255.1', /^private:100\.64\.0\.0\/10$/],
    ['169.254.7.7', /^link-local:/],
    ['239.1.1.1', /^multicast:/],
    ['250.1.1.1', /^reserved:240\.0\.0\.0\/4$/],
    ['fc00::1', /^private:fc00::\/7$/],
    ['fe80::abcd', /^link-local:fe80::\/10$/],
    ['2001:db8::5', /^reserved:2001:db8::\/32$/],
    ['::ffff:192.168.1.1', /^private:192\.168\.0\.0\/16$/],
    ['::ffff:198.18.0.1', /^reserved:198\.18\.0\.0\/15$/],
    // 6to4: decided by the IPv4 inside (2002:AABB:CCDD::/48 → AA.BB.CC.DD).
    ['2002:7f00:1::1', /^loopback:127\.0\.0\.0\/8$/],
    ['2002:a9fe:a9fe::1', /^cloud-metadata:169\.254\.169\.254$/],
    ['2002:c0a8:101::1', /^private:192\.168\.0\.0\/16$/],
    ['2002:c000:201::1', /^reserved:192\.0\.2\.0\/24$/],
  ];
  for (const [ip, rule] of special) {
    it(`${ip} is not public`, () => {
      const d = decideAddress(def, ip, 443);
      assert.equal(d.allowed, false, d.reason);
      assert.match(d.rule, rule);
    });
  }

  it('6to4 around a public IPv4 is decided as that IPv4', () => {
    assert.equal(decideAddress(def, '2002:5db8:d822::1', 443).allowed, true); // 93.184.216.34
    assert.equal(describeAddress('2002:5db8:d822::1')?.effective, '93.184.216.34');
  });

  it("this machine's own interface address counts as local, in every preset, by name or not", () => {
    const ctx = { localAddresses: ['127.0.0.1', '93.184.216.40', 'fe80::1%eth0'] };
    const d = decideAddress(def, '93.184.216.40', 8080, undefined, ctx);
    assert.equal(d.allowed, false, d.reason);
    assert.match(d.rule, /^local-interface:93\.184\.216\.40$/);
    assert.match(d.reason, /own network interfaces/);
    assert.equal(decideAddress(def, '::ffff:93.184.216.40', 8080, undefined, ctx).allowed, false);
    assert.equal(decideAddress(def, '93.184.216.41', 8080, undefined, ctx).allowed, true, 'a neighbour is not this machine');
    const wild = pol({ preset: 'strict', allowHosts: ['*.example.com'] });
    assert.equal(decideAddress(wild, '93.184.216.40', 443, 'me.example.com', ctx).allowed, false);
    // On purpose: an allowAddresses entry.
    assert.equal(decideAddress(pol({ allowAddresses: ['93.184.216.40/32:8080'] }), '93.184.216.40', 8080, undefined, ctx).allowed, true);
  });

  it('an allowed host name never skips blocked ports, in strict and api-only', () => {
    for (const preset of ['strict', 'api-only', 'default'] as const) {
      const p = pol({ preset, allowHosts: ['vm'] });
      assert.equal(decideAddress(p, '127.0.0.1', 6379, 'vm').rule, 'blocked-port:6379', preset);
      assert.equal(decideAddress(p, '127.0.0.1', 22, 'vm').rule, 'blocked-port:22', preset);
      assert.equal(decideAddress(p, '93.184.216.34', 3389, 'vm').rule, 'blocked-port:3389', preset);
    }
  });

  it('an allowed host name never reaches cloud metadata', () => {
    const p = pol({ preset: 'strict', allowHosts: ['innocent.test'] });
    assert.match(decideAddress(p, '169.254.169.254', 80, 'innocent.test').rule, /^cloud-metadata:/);
    assert.match(decideAddress(p, '2002:a9fe:a9fe::', 80, 'innocent.test').rule, /^cloud-metadata:/);
  });

  it('a name matching a wildcard rule never reaches loopback, private or special ranges; the reason says why', () => {
    const p = pol({ preset: 'strict', allowHosts: ['*.example.com'] });
    for (const ip of ['127.0.0.1', '10.0.0.5', '192.168.1.1', '192.0.2.2', 'fd00::2', '::1']) {
      const d = decideAddress(p, ip, 443, 'evil.example.com');
      assert.equal(d.allowed, false, ip);
      assert.match(d.reason, /wildcard host rule never reaches non-public addresses/, ip);
    }
    assert.equal(decideAddress(p, '93.184.216.34', 443, 'www.example.com').allowed, true);
    const any = pol({ preset: 'default', allowHosts: ['*'] });
    assert.equal(decideAddress(any, '127.0.0.1', 8080, 'localhost').allowed, false);
  });
});
