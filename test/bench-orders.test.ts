/**
 * The bench's interleaving (tools/bench/common.ts): over a cycle of `balancedOrders(n)` every variant runs once per
 * round and follows every other variant equally often, so what one variant leaves behind in a process (garbage,
 * onnxruntime's spinning threads) is not always charged to the same neighbour.
 */
import { expect } from 'chai';
import { balancedOrders, interleave } from '../tools/bench/common.js';

describe('bench: balanced interleaving orders', () => {
  for (let n = 1; n <= 7; n++) {
    it(`n = ${n}: each round a permutation, each ordered neighbour pair equally often`, () => {
      const orders = balancedOrders(n);
      expect(orders).to.have.length(n % 2 ? 2 * n : n);
      const pairs = new Map<string, number>();
      for (const row of orders) {
        expect([...row].sort((a, b) => a - b)).to.deep.equal([...Array(n).keys()]);
        for (let j = 1; j < n; j++) pairs.set(`${row[j - 1]}>${row[j]}`, (pairs.get(`${row[j - 1]}>${row[j]}`) ?? 0) + 1);
      }
      expect(pairs.size).to.equal(n * (n - 1));
      expect(new Set(pairs.values()).size).to.be.at.most(1);
    });
  }

  it('interleave runs the variants in those orders and records each one its own times', async () => {
    const log: number[] = [];
    const times = await interleave([0, 1, 2, 3].map((i) => async () => { log.push(i); return 10 + i; }), 4, 0);
    expect(log).to.deep.equal(balancedOrders(4).flat());
    expect(times).to.deep.equal([0, 1, 2, 3].map((i) => [10 + i, 10 + i, 10 + i, 10 + i]));
  });
});
