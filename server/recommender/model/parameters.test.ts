import { ParameterTable } from './parameters';
import { Random } from './random';
import { Vocabulary } from './vocabulary';

const adam = { learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, l2: 0 };

describe('ParameterTable', () => {
  it('keeps the reserved row zero and grows without disturbing existing rows', () => {
    const table = new ParameterTable('t', 3, { std: 0.5, rng: new Random(1), reservedZeroRow: true }, 4);
    expect(Array.from(table.gather([0]))).toEqual([0, 0, 0]);
    const before = Array.from(table.gather([1, 2, 3]));
    table.ensureRows(100);
    expect(table.rows).toBe(100);
    expect(Array.from(table.gather([1, 2, 3]))).toEqual(before);
    expect(Array.from(table.gather([99])).some((x) => x !== 0)).toBe(true);
    expect(Array.from(table.gather([500]))).toEqual([0, 0, 0]); // out of range reads as unknown
  });

  it('updates only the rows a batch touched, summing repeated rows first', () => {
    const table = new ParameterTable('t', 2, { std: 0, rng: new Random(1), reservedZeroRow: true }, 5);
    const grad = Float32Array.from([1, -1, 1, -1]);
    table.accumulate(2, grad, 0);
    table.accumulate(2, grad, 2);
    table.accumulate(0, grad, 0); // the reserved row never learns
    table.step(adam);
    const rows = Array.from(table.gather([0, 1, 2, 3]));
    expect(rows.slice(0, 4)).toEqual([0, 0, 0, 0]);
    // Adam's first step moves by the learning rate against the gradient's sign.
    expect(rows[4]).toBeCloseTo(-0.1, 5);
    expect(rows[5]).toBeCloseTo(0.1, 5);
    expect(rows.slice(6)).toEqual([0, 0]);
  });

  it('round-trips values and optimizer state', () => {
    const a = new ParameterTable('t', 2, { std: 0.1, rng: new Random(2), reservedZeroRow: true }, 3);
    a.accumulate(1, Float32Array.from([0.5, 0.5]), 0);
    a.step(adam);
    const b = new ParameterTable('t', 2, { std: 0.1, rng: new Random(3), reservedZeroRow: true }, 1);
    b.import(a.export(true));
    expect(b.export(true)).toEqual(a.export(true));
  });
});

describe('Vocabulary', () => {
  it('reserves row 0 for unknown ids and stops growing at capacity', () => {
    const v = new Vocabulary(2);
    expect(v.lookup('a')).toBe(0);
    expect(v.add('a')).toBe(1);
    expect(v.add('b')).toBe(2);
    expect(v.add('a')).toBe(1);
    expect(v.add('c')).toBe(0);
    expect(v.lookup(undefined)).toBe(0);
    expect(v.idOf(2)).toBe('b');
    expect(Vocabulary.fromJSON(v.toJSON()).lookup('b')).toBe(2);
  });
});
