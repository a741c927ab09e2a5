/**
 * `GET /api/v1/actions/public-key`: the instance's signing keys, current and retired, for anyone
 * who verifies a package or a webhook body.
 */
import type { FastifyInstance } from 'fastify';
import { loadInstanceKey, publishedKeys } from '../referrals/instance-key.ts';
import { ACTIONS_TAGS } from './route-helpers.ts';

export async function publicKeyRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;
  const tags = ACTIONS_TAGS;

  app.get(
    '/api/v1/actions/public-key',
    {
      schema: {
        summary:
          'The Ed25519 key that signs evidence packages and webhook bodies now, and every retired key with its ' +
          'validity period',
        description:
          'The same answer from every process of the instance. A package verifies with the key its manifest names ' +
          '(`instance.keyFingerprint`) when it was created within that key’s validity; a rotated key’s successor ' +
          'carries the retired key’s signature over its rotation statement (`endorsement`).',
        tags,
      },
    },
    async () => {
      let keys = await publishedKeys(db);
      if (!keys.some((k) => k.state === 'current')) {
        await loadInstanceKey(db, app.ctx.config);
        keys = await publishedKeys(db);
      }
      const current = keys.find((k) => k.state === 'current') ?? keys[0];
      return {
        algorithm: 'Ed25519',
        fingerprint: current.fingerprint,
        publicKeyPem: current.publicKeyPem,
        validFrom: current.validFrom,
        keys,
      };
    },
  );
}
