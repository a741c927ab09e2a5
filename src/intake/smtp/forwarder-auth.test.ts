import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StaticZoneResolver } from '../../analysis/ports/dns-static-zone.ts';
import { authenticateForwarder } from './forwarder-auth.ts';

const raw = Buffer.from('From: Eve <eve@corp.example>\r\nTo: spam@report.test\r\nSubject: Fwd\r\n\r\nsee attached\r\n');
const base = {
  raw,
  address: 'eve@corp.example',
  mailFrom: 'eve@corp.example',
  helo: 'mx.corp.example',
  dns: new StaticZoneResolver({}),
};

test(
  'a trusted relay is recognised in its IPv4-mapped IPv6 form and by CIDR; other clients are checked by ' + 'DNS',
  async () => {
    const list = ['10.0.0.0/8', '2001:db8::/32'];
    assert.equal(
      (await authenticateForwarder({ ...base, clientIp: '::ffff:10.1.2.3', trustedForwarders: list })).method,
      'trusted-relay',
    );
    assert.equal(
      (await authenticateForwarder({ ...base, clientIp: '2001:db8::25', trustedForwarders: list })).method,
      'trusted-relay',
    );
    const outside = await authenticateForwarder({ ...base, clientIp: '192.0.2.7', trustedForwarders: list });
    assert.equal(outside.verified, false);
    assert.match(outside.reason, /corp\.example not proved/);
  },
);

test(
  'no address, a garbage client address or a bad list entry leaves the reporter unverified without ' + 'throwing',
  async () => {
    assert.equal(
      (await authenticateForwarder({ ...base, address: null, clientIp: '10.0.0.1', trustedForwarders: ['10.0.0.0/8'] }))
        .reason,
      'no reporter address',
    );
    assert.equal(
      (await authenticateForwarder({ ...base, clientIp: 'not-an-ip', trustedForwarders: ['10.0.0.0/8'] })).verified,
      false,
    );
    assert.equal(
      (await authenticateForwarder({ ...base, clientIp: '10.0.0.1', trustedForwarders: ['bogus', '10.0.0.0/8'] }))
        .method,
      'trusted-relay',
    );
  },
);
