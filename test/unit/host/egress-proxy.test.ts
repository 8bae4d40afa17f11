// The egress proxy's pure parts: which runs get one, what it adds to the policy, CONNECT authorities.
import * as assert from 'node:assert/strict';
import { needsEgressProxy, parseAuthority, withProxyAllowed } from '../../../src/host/egress-proxy';
import { decideAddress, resolvePolicy } from '../../../src/policy';

const policy = (network: Record<string, unknown>) => resolvePolicy({ run: { network } }, { workspace: '/ws', home: '/home/u' }).policy;

describe('host: egress proxy', () => {
  it('only runs with a wildcard host rule (and some network) get a proxy', () => {
    assert.equal(needsEgressProxy(policy({ preset: 'strict', allowHosts: ['*.example.com'] })), true);
    assert.equal(needsEgressProxy(policy({ preset: 'default', denyHosts: ['*.evil.test'] })), true);
    assert.equal(needsEgressProxy(policy({ preset: 'strict', allowHosts: ['api.example.com'] })), false);
    assert.equal(needsEgressProxy(policy({ preset: 'none', allowHosts: ['*.example.com'] })), false);
  });

  it('the run may reach the proxy\'s port on loopback, and nothing else more', () => {
    const p = withProxyAllowed(policy({ preset: 'strict', allowHosts: ['*.example.com'] }), 40123);
    assert.equal(decideAddress(p, '127.0.0.1', 40123).allowed, true);
    assert.equal(decideAddress(p, '127.0.0.1', 40124).allowed, false);
  });

  it('a direct connect with no name, under a wildcard rule, is refused and says the proxy matches names', () => {
    const d = decideAddress(policy({ preset: 'strict', allowHosts: ['*.example.com'] }), '93.184.216.34', 443);
    assert.equal(d.allowed, false);
    assert.match(d.reason, /through the sandbox proxy/);
    assert.equal(decideAddress(policy({ preset: 'strict', allowHosts: ['*.example.com'] }), '93.184.216.34', 443, 'www.example.com').allowed, true);
  });

  it('parses CONNECT authorities, IPv6 in brackets; refuses malformed ones', () => {
    assert.deepEqual(parseAuthority('api.example.com:443'), { host: 'api.example.com', port: 443 });
    assert.deepEqual(parseAuthority('[::1]:8443'), { host: '::1', port: 8443 });
    assert.equal(parseAuthority('example.com'), null);
    assert.equal(parseAuthority('example.com:0'), null);
    assert.equal(parseAuthority('example.com:70000'), null);
    assert.equal(parseAuthority('a:b:443'), null);
  });
});
