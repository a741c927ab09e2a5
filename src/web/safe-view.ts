/**
 * The safe rendered view of a reported message. Spam is hostile: its HTML may carry tracking
 * pixels, scripts, forms, CSS `url()` beacons, meta refreshes. Three independent layers keep any of
 * it from running or calling home:
 * 1. the HTML is sanitised here (allow-list of tags and attributes; links lose their href; images
 *    keep only `data:` and inline `cid:` parts, turned into `data:` URIs; CSS keeps a few
 *    properties and never a `url(`);
 * 2. the document is served with a Content-Security-Policy that forbids every load but `data:`
 *    images and inline styles, plus the CSP `sandbox` directive;
 * 3. the page embeds it in an `<iframe sandbox>` without allow-scripts, allow-forms,
 *    allow-same-origin, allow-popups or allow-top-navigation.
 */
import PostalMime, { type Email } from 'postal-mime';
import sanitizeHtml from 'sanitize-html';
import { esc } from './html.ts';

/** CSP of the rendered message document. */
export const SAFE_VIEW_CSP = [
  "default-src 'none'",
  'img-src data:',
  "style-src 'unsafe-inline'",
  "font-src 'none'",
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'self'",
  'sandbox',
].join('; ');

/** The same policy repeated in the document (defence in depth; frame-ancestors and sandbox only work as headers). */
const META_CSP = SAFE_VIEW_CSP.split('; ')
  .filter((d) => !d.startsWith('frame-ancestors') && d !== 'sandbox')
  .join('; ');

/** `sandbox` attribute of the iframe: the empty token list grants nothing. */
export const SAFE_VIEW_SANDBOX = '';

/** 1×1 transparent GIF shown in place of a remote image (its alt text says what was removed). */
const PLACEHOLDER_IMAGE = 'data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7';
const MAX_INLINE_IMAGE_BYTES = 1024 * 1024;
const MAX_INLINE_IMAGES_TOTAL = 8 * 1024 * 1024;
const INLINE_IMAGE_TYPES = new Set(['image/png', 'image/gif', 'image/jpeg', 'image/webp', 'image/bmp']);

/** CSS properties kept in style attributes; values holding `url(`, `expression(` or `@import` are dropped. */
const SAFE_CSS_VALUE = /^(?!.*(?:url\s*\(|expression\s*\(|@import|\\|image-set|-moz-binding|behavior)).{0,200}$/i;
const STYLE_PROPS = [
  'color',
  'background-color',
  'font-family',
  'font-size',
  'font-weight',
  'font-style',
  'text-align',
  'text-decoration',
  'line-height',
  'padding',
  'padding-top',
  'padding-bottom',
  'padding-left',
  'padding-right',
  'margin',
  'margin-top',
  'margin-bottom',
  'margin-left',
  'margin-right',
  'border',
  'border-collapse',
  'width',
  'max-width',
  'height',
  'vertical-align',
  'display',
];

export interface SafeRendering {
  /** The full HTML document to serve under {@link SAFE_VIEW_CSP}. */
  document: string;
  /** Remote resources (images, links' targets not counted) that were removed. */
  removedRemote: number;
  hadHtml: boolean;
}

/** Sanitises one HTML body. `cidImages` maps Content-ID (without brackets) → data URI. */
export function sanitiseMessageHtml(
  input: string,
  cidImages: Map<string, string> = new Map(),
): { html: string; removedRemote: number } {
  let removedRemote = 0;
  const allowedStyles: Record<string, RegExp[]> = {};
  for (const p of STYLE_PROPS) allowedStyles[p] = [SAFE_CSS_VALUE];
  const html = sanitizeHtml(input, {
    allowedTags: [
      'a',
      'abbr',
      'b',
      'blockquote',
      'br',
      'caption',
      'center',
      'code',
      'col',
      'colgroup',
      'dd',
      'del',
      'div',
      'dl',
      'dt',
      'em',
      'font',
      'h1',
      'h2',
      'h3',
      'h4',
      'h5',
      'h6',
      'hr',
      'i',
      'img',
      'ins',
      'li',
      'mark',
      'ol',
      'p',
      'pre',
      'q',
      's',
      'small',
      'span',
      'strike',
      'strong',
      'sub',
      'sup',
      'table',
      'tbody',
      'td',
      'tfoot',
      'th',
      'thead',
      'tr',
      'tt',
      'u',
      'ul',
    ],
    allowedAttributes: {
      '*': ['style', 'align', 'valign', 'width', 'height', 'dir', 'lang', 'title'],
      a: ['title', 'data-href'],
      img: ['src', 'alt', 'width', 'height', 'data-removed'],
      font: ['color', 'size', 'face'],
      table: ['border', 'cellpadding', 'cellspacing', 'bgcolor'],
      td: ['colspan', 'rowspan', 'bgcolor', 'nowrap'],
      th: ['colspan', 'rowspan', 'bgcolor', 'scope'],
      tr: ['bgcolor'],
    },
    allowedStyles: { '*': allowedStyles },
    allowedSchemes: [],
    allowedSchemesByTag: { img: ['data'] },
    allowedSchemesAppliedToAttributes: ['src', 'href', 'cite'],
    allowProtocolRelative: false,
    // Script, style, template… are dropped with their content.
    nonTextTags: [
      'script',
      'style',
      'textarea',
      'option',
      'noscript',
      'title',
      'template',
      'xmp',
      'iframe',
      'object',
      'embed',
      'svg',
      'math',
      'head',
    ],
    transformTags: {
      // Links are shown, never followed: the target becomes a tooltip.
      a: (_tag, attribs): sanitizeHtml.Tag => ({
        tagName: 'a',
        attribs: attribs.href ? { title: attribs.href.slice(0, 500), 'data-href': attribs.href.slice(0, 500) } : {},
      }),
      img: (_tag, attribs): sanitizeHtml.Tag => {
        const src = (attribs.src ?? '').trim();
        if (/^cid:/i.test(src)) {
          const data = cidImages.get(src.slice(4).replace(/^<|>$/g, ''));
          if (data) {
            const kept: sanitizeHtml.Attributes = { src: data, alt: attribs.alt ?? '' };
            if (attribs.width) kept.width = attribs.width;
            if (attribs.height) kept.height = attribs.height;
            return { tagName: 'img', attribs: kept };
          }
        }
        if (/^data:image\//i.test(src)) return { tagName: 'img', attribs: { src, alt: attribs.alt ?? '' } };
        if (src !== '') removedRemote++;
        // A local placeholder that says what was there (never the remote address as a source).
        return {
          tagName: 'img',
          attribs: {
            src: PLACEHOLDER_IMAGE,
            alt: `[remote image removed${attribs.alt ? `: ${attribs.alt.slice(0, 100)}` : ''}]`,
            title: src.slice(0, 300),
            'data-removed': 'image',
          },
        };
      },
    },
    exclusiveFilter: (frame) => frame.tag === 'img' && !frame.attribs.src,
  });
  // Background images given as attributes (`background=`) are not in the allow-list; count them too.
  removedRemote += (input.match(/\sbackground\s*=\s*["']?\s*(?:https?:)?\/\//gi) ?? []).length;
  removedRemote += (input.match(/url\s*\(\s*["']?\s*(?:https?:)?\/\//gi) ?? []).length;
  return { html, removedRemote };
}

function documentOf(body: string, lang: string): string {
  return `<!doctype html><html lang="${esc(lang)}"><head><meta charset="utf-8"><meta \
http-equiv="Content-Security-Policy" content="${esc(META_CSP)}"><meta name="referrer" content="no-referrer">\
<style>body{font-family:system-ui,sans-serif;margin:8px;color:#111;background:#fff;overflow-wrap:anywhere}pre{white-spa\
ce:pre-wrap}img{max-width:100%;height:auto}img[data-removed]{min-width:16px;min-height:16px;outline:1px dashed #999}\
</style></head><body>${body}</body></html>`;
}

/** Renders a raw RFC 5322 message for the safe view. */
export async function renderSafeView(raw: Uint8Array, lang = 'en'): Promise<SafeRendering> {
  let email: Email;
  try {
    email = await PostalMime.parse(raw, {
      maxNestingDepth: 50,
      maxHeadersSize: 1024 * 1024,
      attachmentEncoding: 'base64',
    });
  } catch (e) {
    return {
      document: documentOf(
        `<pre>${esc(`The message could not be parsed: ${e instanceof Error ? e.message : String(e)}`)}</pre>`,
        lang,
      ),
      removedRemote: 0,
      hadHtml: false,
    };
  }
  if (!email.html) {
    return {
      document: documentOf(`<pre>${esc((email.text ?? '').slice(0, 2_000_000))}</pre>`, lang),
      removedRemote: 0,
      hadHtml: false,
    };
  }
  const cid = new Map<string, string>();
  let budget = MAX_INLINE_IMAGES_TOTAL;
  for (const a of email.attachments) {
    if (!a.contentId || !INLINE_IMAGE_TYPES.has(a.mimeType.toLowerCase()) || typeof a.content !== 'string') continue;
    const bytes = Math.floor((a.content.length * 3) / 4);
    if (bytes > MAX_INLINE_IMAGE_BYTES || bytes > budget) continue;
    budget -= bytes;
    cid.set(a.contentId.replace(/^<|>$/g, ''), `data:${a.mimeType.toLowerCase()};base64,${a.content}`);
  }
  const { html, removedRemote } = sanitiseMessageHtml(email.html.slice(0, 5_000_000), cid);
  return { document: documentOf(html, lang), removedRemote, hadHtml: true };
}
