import { InFlightRequests } from './in-flight-requests.service';

describe('InFlightRequests', () => {
  it('drains only once every tracked request has finished, including ones that fail', async () => {
    const inFlight = new InFlightRequests();
    let finishSlow: () => void = () => undefined;
    const slow = inFlight.track(() => new Promise<void>((resolve) => (finishSlow = resolve)));
    const failing = inFlight.track(() => Promise.reject(new Error('boom')));
    await expect(failing).rejects.toThrow('boom');
    expect(inFlight.size).toBe(1);
    let drained: boolean | undefined;
    const waiting = inFlight.drained(5000).then((d) => (drained = d));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(drained).toBeUndefined();
    finishSlow();
    await slow;
    await waiting;
    expect(drained).toBe(true);
    expect(inFlight.size).toBe(0);
  });

  it('gives up after the timeout and says so', async () => {
    const inFlight = new InFlightRequests();
    void inFlight.track(() => new Promise<void>(() => undefined));
    expect(await inFlight.drained(30)).toBe(false);
  });

  it('is drained at once when nothing runs', async () => {
    expect(await new InFlightRequests().drained(0)).toBe(true);
  });
});
