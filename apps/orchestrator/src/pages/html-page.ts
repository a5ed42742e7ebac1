import type { Response } from 'express';

/** HTML-escapes text for element content and quoted attribute values. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A whole page in the plain, script-free shell every page of ours uses. */
export function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · crossauth</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem}input[type=text],input[type=password]{width:100%;padding:.5rem;font:inherit;box-sizing:border-box}button{font:inherit;padding:.5rem 1.2rem;margin:1rem .5rem 0 0}.error{color:#a00}.where{font-family:monospace;background:#f2f2f2;padding:0 .3rem}</style>
</head>
<body>
${body}
</body>
</html>`;
}

/**
 * Sends a page with the headers every page of ours carries: no script, no
 * framing, no caching, no referrer. `formTargets` are the origins a form's
 * answer may redirect to besides our own.
 */
export function sendPage(res: Response, status: number, html: string, formTargets = ''): void {
  res.setHeader(
    'Content-Security-Policy',
    `default-src 'none'; style-src 'unsafe-inline'; form-action 'self'${formTargets}; frame-ancestors 'none'; base-uri 'none'`,
  );
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.status(status).type('text/html; charset=utf-8').send(html);
}
