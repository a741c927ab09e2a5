/**
 * French (and multilingual) SMS judgement: the SMS signals, the region profiles, the language
 * check, and the examples of issue 22 classified end to end (analysis pipeline + shipped model and
 * weights).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { analyse } from '../analyse.ts';
import type { Analysis } from '../analysis-schema.ts';
import { offlinePorts } from '../offline-ports.ts';
import { defaultAnalysisSettings } from '../settings.ts';
import { serializeSmsEvidence } from '../../evidence/sms-format.ts';
import { createClassifier, reasonLines } from './classify.ts';
import { textLanguage } from './language.ts';
import {
  DEFAULT_SMS_PROFILES_FILE,
  fold,
  isAnonymousSender,
  loadSmsProfile,
  smsProfilesProblems,
  smsSignals,
} from './sms-signals.ts';

const fr = createClassifier({ region: 'FR' });
const frProfile = loadSmsProfile('FR');

async function sms(text: string, sender = 'unknown', region = 'FR'): Promise<Analysis> {
  return analyse(serializeSmsEvidence({ sender, text, receivedAt: null }), {
    ports: offlinePorts(new Date('2026-01-01T00:00:00Z')),
    settings: defaultAnalysisSettings({ region }),
  });
}

async function rulesOf(text: string, sender = 'unknown'): Promise<string[]> {
  return smsSignals(await sms(text, sender), frProfile).map((h) => h.rule);
}

describe('the French SMS examples of issue 22 come out right', () => {
  const cases: [string, string, string, string[]][] = [
    [
      'the docs example (blocked parcel, from a mobile number)',
      'Votre colis est bloqué : https://colis.example/x',
      '+33612345678',
      ['phishing'],
    ],
    [
      'an Ameli card-renewal scam',
      'Assurance Maladie : votre carte Vitale arrive à expiration. Renouvelez-la avant le 30/06 sur ' +
        'https://ameli-carte-renouvellement.com',
      'unknown',
      ['phishing'],
    ],
    [
      'a PayPal suspension',
      'PayPal: votre compte sera suspendu dans les 24h. Confirmez vos informations : https://paypal-securite.info/fr',
      '+33612345678',
      ['phishing'],
    ],
    [
      'a CPF scam',
      'Mon Compte Formation : vos 1 200€ de droits CPF expirent le 31/12. Utilisez-les ici : https://cpf-mesdroits.fr',
      'unknown',
      ['phishing', 'scam'],
    ],
    [
      'a premium-rate callback',
      'Un colis est en attente à votre nom. Appelez le 08 99 12 34 56 pour fixer la livraison.',
      'unknown',
      ['scam', 'phishing'],
    ],
    [
      'a genuine Colissimo notice on its own domain',
      'Colissimo : votre colis 6A12345678901 sera livré demain. Suivi : https://www.laposte.fr/outils/suivi',
      'Colissimo',
      ['legitimate'],
    ],
    [
      'a retailer’s parcel notice on its own site, from its sender id',
      'Zalando : votre colis est en route. Suivez-le sur https://www.zalando.fr/mon-compte/commandes',
      'Zalando',
      ['legitimate'],
    ],
    [
      'a one-time code',
      'Votre code de vérification est 483920. Ne le communiquez à personne.',
      '38200',
      ['legitimate'],
    ],
    [
      'a bank alert without a link, with the bank’s ordinary number',
      'Paiement de 45 EUR chez UBER refusé. Si vous n’êtes pas à l’origine, appelez le 09 69 39 99 98.',
      'unknown',
      ['legitimate'],
    ],
  ];
  for (const [name, text, sender, expected] of cases)
    test(`${name} → ${expected.join(' or ')}`, async () => {
      const v = fr.classify(await sms(text, sender));
      assert.ok(expected.includes(v.category), `${v.category}\n${reasonLines(v).join('\n')}`);
      assert.ok(v.reasons.length > 0);
    });
});

describe('other regions use their own profile (GB, US)', () => {
  const cases: [string, string, string, string][] = [
    [
      'GB',
      'unknown',
      'Royal Mail: Your parcel is on hold, unpaid shipping fee of £1.99. Pay now: https://royalmail-redelivery.top/gb',
      'phishing',
    ],
    [
      'GB',
      'RoyalMail',
      'Royal Mail: your parcel KF123456789GB will be delivered today. Track it at https://www.royalmail.com/track',
      'legitimate',
    ],
    [
      'US',
      'unknown',
      'E-ZPass: You have an unpaid toll balance of $4.15. Pay within 24 hours: https://ezpass-toll.xyz',
      'phishing',
    ],
  ];
  for (const [region, sender, text, expected] of cases)
    test(`${region}: ${text.slice(0, 40)}… → ${expected}`, async () => {
      const v = createClassifier({ region }).classify(await sms(text, sender, region));
      assert.equal(v.category, expected, reasonLines(v).join('\n'));
    });
});

test('GB: the English “Hi mum” story fires SMS_NEW_NUMBER (the English model may still outvote it)', async () => {
  const a = await sms(
    'Hi mum, this is my new number, my phone is broken. Can you text me on WhatsApp?',
    'unknown',
    'GB',
  );
  assert.ok(smsSignals(a, loadSmsProfile('GB')).some((h) => h.rule === 'SMS_NEW_NUMBER'));
});

describe('SMS signals', () => {
  test('a brand named with a link elsewhere is SMS_BRAND_LINK; its own domain SMS_BRAND_OWN_LINK', async () => {
    const fake = smsSignals(await sms('Ameli : mettez à jour vos informations https://ameli-maj.site/x'), frProfile);
    const hit = fake.find((h) => h.rule === 'SMS_BRAND_LINK');
    assert.ok(hit);
    assert.match(hit.detail, /Assurance Maladie.*ameli-maj\.site/);
    const own = await rulesOf('Ameli : un nouveau message vous attend sur https://www.ameli.fr/assure', 'Ameli');
    assert.ok(own.includes('SMS_BRAND_OWN_LINK'));
    assert.ok(!own.includes('SMS_BRAND_LINK'));
  });

  test('a domain built on a brand (or ending a brand domain with more) is SMS_LOOKALIKE_DOMAIN', async () => {
    assert.ok((await rulesOf('Suivi : https://colissimo-suivi.info/a')).includes('SMS_LOOKALIKE_DOMAIN'));
    assert.ok((await rulesOf('Suivi : https://laposte.fr-suivi.com/a')).includes('SMS_LOOKALIKE_DOMAIN'));
    assert.ok(!(await rulesOf('Suivi : https://www.laposte.fr/suivi')).includes('SMS_LOOKALIKE_DOMAIN'));
  });

  test('shorteners, odd TLDs, links from unknown or long-number senders; not first-party short links', async () => {
    const r = await rulesOf('Voir https://bit.ly/3abcd et https://promo-x.top/a', '+33612345678');
    assert.ok(r.includes('SMS_SHORTENED_LINK'));
    assert.ok(r.includes('SMS_ODD_TLD'));
    assert.ok(r.includes('SMS_LINK_UNKNOWN_SENDER'));
    assert.ok(!(await rulesOf('Le plan : https://maps.app.goo.gl/Xb4Fq7', 'Mairie')).includes('SMS_SHORTENED_LINK'));
    assert.ok(!(await rulesOf('Suivi : https://www.laposte.fr/x', 'LaPoste')).includes('SMS_LINK_UNKNOWN_SENDER'));
    assert.deepEqual(isAnonymousSender('38200'), { anonymous: false, why: '' });
    assert.equal(isAnonymousSender('unknown').anonymous, true);
  });

  test('premium-rate and foreign numbers to call back are flagged; an ordinary French one is not', async () => {
    assert.ok((await rulesOf('Rappelez le 0899 12 34 56')).includes('SMS_PREMIUM_CALLBACK'));
    const foreign = await rulesOf('Rappelez le +44 7418 362 512 pour payer les frais');
    assert.ok(foreign.includes('SMS_FOREIGN_CALLBACK'));
    assert.ok(foreign.includes('SMS_PAYMENT_LURE'), 'payment wording counts with a dubious number');
    const ordinary = await rulesOf('Paiement de 45 EUR refusé, appelez le 09 69 39 99 98');
    assert.ok(!ordinary.some((r) => r.startsWith('SMS_')), ordinary.join(','));
  });

  test('wording counts only when the SMS gives a way to act (a link or a dubious number)', async () => {
    assert.deepEqual(await rulesOf('Dernier rappel : votre facture de 12,50 € est disponible.'), []);
    const r = await rulesOf('Dernier rappel : réglez 12,50 € sous 24h https://pay-x.example/a');
    assert.ok(r.includes('SMS_URGENCY') && r.includes('SMS_PAYMENT_LURE'), r.join(','));
  });

  test('the “new number” family scam, easy-money promises, app packages and French advertising', async () => {
    assert.ok(
      (await rulesOf("Coucou maman c'est moi, j'ai changé de numéro, écris-moi sur WhatsApp")).includes(
        'SMS_NEW_NUMBER',
      ),
    );
    assert.ok(!(await rulesOf("Maman c'est Léa, je rentre vers 19h")).includes('SMS_NEW_NUMBER'));
    assert.ok((await rulesOf('Gagnez 300€ par jour depuis chez vous')).includes('SMS_MONEY_PROMISE'));
    assert.ok((await rulesOf('Message vocal : https://vm-x.example/voicemail.apk')).includes('SMS_APP_DOWNLOAD'));
    assert.ok((await rulesOf('Soldes : -50% sur tout le magasin ! STOP au 36111')).includes('SMS_MARKETING'));
  });

  test('e-mail is not judged by the SMS signals', async () => {
    const a = await sms('Ameli : https://ameli-maj.site/x');
    assert.deepEqual(smsSignals({ ...a, kind: 'email' }, frProfile), []);
  });
});

describe('SMS profiles and the model’s language', () => {
  test('the region decides which brands are known: GB has Royal Mail and not Ameli, both have PayPal', () => {
    const gb = loadSmsProfile('GB');
    assert.ok(gb.brands.some((b) => b.name.startsWith('Royal Mail')));
    assert.ok(!gb.brands.some((b) => b.name.startsWith('Assurance Maladie')));
    assert.ok(gb.brands.some((b) => b.name === 'PayPal') && frProfile.brands.some((b) => b.name === 'PayPal'));
    assert.ok(loadSmsProfile('DE').brands.length > 0, 'a region without an entry still gets the shared brands');
  });

  test('a malformed profile file is refused with the file and the field named', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sms-profiles-'));
    const file = path.join(dir, 'p.json');
    fs.writeFileSync(file, JSON.stringify({ countries: { FR: { urgency: ['(unclosed'] } } }));
    assert.throws(() => loadSmsProfile('FR', file), /p\.json: .*at countries\.FR\.urgency\.0/);
    fs.writeFileSync(file, JSON.stringify({ countries: { France: {} } }));
    assert.throws(() => loadSmsProfile('FR', file), /p\.json: .*countries/);
    assert.equal(smsProfilesProblems(file).length, 1);
    assert.deepEqual(smsProfilesProblems(DEFAULT_SMS_PROFILES_FILE), []);
  });

  test('the text language is told from function words; accents are folded', () => {
    assert.equal(textLanguage('Votre colis est en attente de livraison'), 'fr');
    assert.equal(textLanguage('Your parcel is waiting for you at the depot'), 'en');
    assert.equal(textLanguage('OK 12:30'), null);
    assert.equal(fold('Réglez l’amende'), "reglez l'amende");
  });

  test('on French text the English model is silent and the reasons say why', async () => {
    const v = fr.classify(await sms('Votre rendez-vous est confirmé pour demain à 10h.'));
    assert.equal(v.category, 'legitimate');
    assert.ok(
      v.reasons.some((r) => r.name === 'PRIOR' && /text in fr/.test(r.detail)),
      reasonLines(v).join('\n'),
    );
    const en = fr.classify(
      await sms("Hey, are we still on for dinner tonight? I'll be there around 7", '+447700900123'),
    );
    assert.ok(
      en.reasons.some((r) => r.name === 'MODEL_TEXT'),
      'English text is read by the model',
    );
  });
});
