import { applyAccess } from './access';
import { Membership } from './memberships';
import type { IoSocket } from './types';

const session = () => new Membership({ id: 's1' } as IoSocket, 'room-1', null, 'viewer');

describe('a room session', () => {
  it('has no access while its access is being decided', () => {
    const m = session();
    expect([m.state, m.access]).toEqual(['joining', 'none']);
  });

  it('has exactly the access decided, and says when the client must hear of a change', () => {
    const m = session();
    const ends = new Date(Date.now() + 60_000);
    expect(m.decide('preview', ends)).toBe(true);
    expect([m.state, m.access, m.previewEndsAt]).toEqual(['preview', 'preview', ends]);
    expect(m.decide('preview', ends)).toBe(false);
    expect(m.decide('full')).toBe(true);
    expect(m.previewEndsAt).toBeUndefined();
    expect(m.decide('none')).toBe(true);
  });

  it('ends for good: no decision after leaving, and its timer is stopped', () => {
    const m = session();
    const expired = jest.fn();
    applyAccess(m, { access: 'preview', previewEndsAt: new Date(Date.now() + 10) }, expired);
    expect(m.accessTimer).toBeDefined();
    expect(m.leave()).toBe(true);
    expect([m.state, m.access, m.accessTimer]).toEqual(['leaving', 'none', undefined]);
    expect(m.leave()).toBe(false);
    expect(() => m.decide('full')).toThrow(/cannot go from leaving to full/);
    // A decision that arrives after the viewer left (a slow database) changes nothing.
    expect(applyAccess(m, { access: 'full' }, expired)).toBe(false);
    expect(m.access).toBe('none');
  });
});
