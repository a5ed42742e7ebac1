/** A browser as far as the sign-in pages need one: a cookie jar, forms, and no automatic redirects. */
export class FormBrowser {
  private readonly jar = new Map<string, string>();

  async go(url: string, form?: Record<string, string>): Promise<{ status: number; html: string; location: string | null; headers: Headers }> {
    const res = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), cookie: [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ') },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, value] = (pair as string).split('=') as [string, string];
      if (value) this.jar.set(name, value);
      else this.jar.delete(name);
    }
    return { status: res.status, html: await res.text(), location: res.headers.get('location'), headers: res.headers };
  }

  has(cookie: string): boolean {
    return this.jar.has(cookie);
  }
}

/** The hidden fields and CSRF token of the page's form, to submit it as a person would. */
export function formOf(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
    fields[m[1] as string] = (m[2] as string).replace(/&#(\d+);/g, (_x, n: string) => String.fromCharCode(Number(n)));
  return fields;
}
