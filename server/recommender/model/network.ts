import * as tf from '@tensorflow/tfjs';

/**
 * The scoring network, as pure tfjs functions of tensors. Embedding rows are gathered outside
 * (see ParameterTable) and come in as dense inputs, so the same code scores, trains and
 * differentiates, and the gradients that come back are exactly the ones for the rows used.
 *
 *   viewer  q = u_static + Σ_l softmax(position)_l · h_l      (h_l: the l-th most recent item)
 *   content p = v_id + mean(tag rows) + creator row
 *   logit     = q·p + b_content + context·W·features + pair·w_pair
 */
export interface ViewerInputs {
  /** [B, d]: the user's id row plus the mean of their interest tags and of their room's tags. */
  static: tf.Tensor2D;
  /** [B, L, d]: history rows, most recent first. */
  history: tf.Tensor3D;
  /** [B, L]: 1 where a history slot holds an item. */
  historyMask: tf.Tensor2D;
  /** [B, C]: context features. */
  context: tf.Tensor2D;
}

export interface ContentInputs {
  /** [N, d]: id row + tag mean + creator row. */
  vector: tf.Tensor2D;
  /** [N]. */
  bias: tf.Tensor1D;
  /** [N, F]. */
  features: tf.Tensor2D;
}

export interface DenseInputs {
  /** [L]: recency weights before the softmax. */
  position: tf.Tensor1D;
  /** [C, F]. */
  wide: tf.Tensor2D;
  /** [P]. */
  pair: tf.Tensor1D;
  /** [2]: scale and offset mapping a logit to a purchase log-odds. */
  calibration: tf.Tensor1D;
}

/**
 * The viewer vector: static part plus a recency-weighted average of the history rows. Written
 * with matMuls where a textbook version would broadcast: tfjs-cpu's broadcasting kernels (and
 * the SplitV behind concat's gradient) cost more than all the arithmetic of a training step.
 */
export function viewerVector(v: ViewerInputs, position: tf.Tensor1D): tf.Tensor2D {
  // Position weights are shared by all viewers, so the masked softmax is mask × exp(position)
  // normalised per row, which is all zeros (not NaN) for a viewer without history.
  const L = position.shape[0];
  // Without history, keep the (empty) inputs on the tape so tf.grads still has a path to them.
  if (L === 0) return tf.add(v.static, tf.mul(0, tf.add(tf.sum(v.history), tf.sum(position)))) as tf.Tensor2D;
  const e = tf.exp(tf.sub(position, tf.max(position)));
  const raw = tf.matMul(v.historyMask, tf.mul(tf.eye(L), e)); // [B, L]: mask × diag(e)
  const total = tf.add(tf.matMul(v.historyMask, tf.expandDims(e, 1)), 1e-9); // [B, 1]
  const weights = tf.div(raw, total) as tf.Tensor2D;
  return tf.add(v.static, weightedSum(weights, v.history)) as tf.Tensor2D;
}

/**
 * pooled[b] = Σ_l weights[b, l] · history[b, l, :], with forward and backward as loops over the
 * typed arrays: tfjs-cpu runs it as B tiny batched matMuls (three with the gradient), which cost
 * more than the rest of a training step. Padded slots (weight 0) are skipped: their weight's
 * gradient would be multiplied by the mask (0) on its way back to the position logits anyway.
 */
export function weightedSum(weights: tf.Tensor2D, history: tf.Tensor3D): tf.Tensor2D {
  const op = tf.customGrad((w, h) => {
    const [B, L, d] = (h as tf.Tensor3D).shape;
    const wv = (w as tf.Tensor2D).dataSync();
    const hv = (h as tf.Tensor3D).dataSync();
    const out = new Float32Array(B * d);
    for (let b = 0; b < B; b++) {
      for (let l = 0; l < L; l++) {
        const x = wv[b * L + l];
        if (x === 0) continue;
        const o = (b * L + l) * d;
        for (let j = 0; j < d; j++) out[b * d + j] += x * hv[o + j];
      }
    }
    return {
      value: tf.tensor2d(out, [B, d]),
      gradFunc: (dy: tf.Tensor) => {
        const g = dy.dataSync();
        const gw = new Float32Array(B * L);
        const gh = new Float32Array(B * L * d);
        for (let b = 0; b < B; b++) {
          for (let l = 0; l < L; l++) {
            const x = wv[b * L + l];
            if (x === 0) continue;
            const o = (b * L + l) * d;
            let dot = 0;
            for (let j = 0; j < d; j++) {
              dot += hv[o + j] * g[b * d + j];
              gh[o + j] = x * g[b * d + j];
            }
            gw[b * L + l] = dot;
          }
        }
        return [tf.tensor2d(gw, [B, L]), tf.tensor3d(gh, [B, L, d])];
      },
    };
  });
  return op(weights, history) as tf.Tensor2D;
}

/** Logits of every viewer against every content: [B, N]. `pairs` is [B, N, P] or null. */
export function crossLogits(
  q: tf.Tensor2D,
  context: tf.Tensor2D,
  c: ContentInputs,
  pairs: tf.Tensor3D | null,
  d: DenseInputs,
): tf.Tensor2D {
  const B = q.shape[0];
  // The bias row is added as an outer product with ones (a matMul), not by broadcasting.
  let logits = tf.add(tf.matMul(q, c.vector, false, true), tf.matMul(tf.ones([B, 1]), tf.expandDims(c.bias, 0)));
  logits = tf.add(logits, tf.matMul(tf.matMul(context, d.wide), c.features, false, true));
  if (pairs) {
    const [, N, P] = pairs.shape;
    logits = tf.add(logits, tf.reshape(tf.matMul(tf.reshape(pairs, [B * N, P]), tf.expandDims(d.pair, 1)), [B, N]));
  }
  return logits as tf.Tensor2D;
}

/** Logit of viewer b with content b: [B]. `pairs` is [B, P] or null. */
export function pairedLogits(
  q: tf.Tensor2D,
  context: tf.Tensor2D,
  c: ContentInputs,
  pairs: tf.Tensor2D | null,
  d: DenseInputs,
): tf.Tensor1D {
  let logits = tf.add(tf.sum(tf.mul(q, c.vector), 1), c.bias);
  logits = tf.add(logits, tf.sum(tf.mul(tf.matMul(context, d.wide), c.features), 1));
  if (pairs) logits = tf.add(logits, tf.reshape(tf.matMul(pairs, tf.expandDims(d.pair, 1)), [-1]));
  return logits as tf.Tensor1D;
}

/**
 * Per-row sampled-softmax loss `logsumexp([positive, negatives]) − positive`, with forward and
 * gradient computed in plain loops over typed arrays: the same thing through tf.logSumExp and
 * tf.concat spends most of a step in broadcasting kernels. `excluded[b × M + j]` marks a sampled
 * negative that is row b's own positive (an accidental hit), which is left out of its softmax.
 */
export function sampledSoftmaxLoss(
  positive: tf.Tensor1D,
  negative: tf.Tensor2D,
  excluded: Uint8Array | null,
): tf.Tensor1D {
  const lossOf = tf.customGrad((pos, neg) => {
    const p = (pos as tf.Tensor1D).dataSync();
    const n = (neg as tf.Tensor2D).dataSync();
    const [B, M] = (neg as tf.Tensor2D).shape;
    const loss = new Float32Array(B);
    const gPos = new Float32Array(B);
    const gNeg = new Float32Array(B * M);
    for (let b = 0; b < B; b++) {
      let c = p[b];
      for (let j = 0; j < M; j++) if (!excluded?.[b * M + j] && n[b * M + j] > c) c = n[b * M + j];
      const ePos = Math.exp(p[b] - c);
      let z = ePos;
      for (let j = 0; j < M; j++) {
        if (excluded?.[b * M + j]) continue;
        const e = Math.exp(n[b * M + j] - c);
        gNeg[b * M + j] = e;
        z += e;
      }
      loss[b] = Math.log(z) + c - p[b];
      gPos[b] = ePos / z - 1;
      for (let j = 0; j < M; j++) gNeg[b * M + j] /= z;
    }
    return {
      value: tf.tensor1d(loss),
      gradFunc: (dy: tf.Tensor) => {
        const w = dy.dataSync();
        const gp = gPos.map((g, b) => g * w[b]);
        const gn = gNeg.map((g, k) => g * w[Math.floor(k / M)]);
        return [tf.tensor1d(gp), tf.tensor2d(gn, [B, M])];
      },
    };
  });
  return lossOf(positive, negative) as tf.Tensor1D;
}

/** Purchase log-odds from a ranking logit. */
export function calibrated(logit: tf.Tensor, calibration: tf.Tensor1D): tf.Tensor {
  const [scale, offset] = tf.unstack(calibration);
  return tf.add(tf.mul(logit, scale), offset);
}

export interface TrainingBatch {
  viewers: ViewerInputs;
  /** The example's own content first (B rows), then the shared sampled negatives (M rows). */
  contents: ContentInputs;
  /** [B, P] for the own contents, or null. */
  ownPairs: tf.Tensor2D | null;
  /** [B, M, P] for the negatives, or null. */
  negativePairs: tf.Tensor3D | null;
  /** [B × M]: 1 where a sampled negative is the example's own content. */
  excluded: Uint8Array | null;
  /** [B]: 1 for implicit positives (sampled softmax), 0 for labelled impressions. */
  implicit: tf.Tensor1D;
  /** [B]: the label of labelled impressions (ignored for implicit rows). */
  label: tf.Tensor1D;
  /** [B]: example weights. */
  weight: tf.Tensor1D;
}

/**
 * The loss of a mixed batch: sampled softmax over (own content, shared negatives) for implicit
 * positives, which is what ranks well; binary cross-entropy of the calibrated probability for
 * labelled impressions, which is what makes probability × price mean something.
 */
export function trainingLoss(batch: TrainingBatch, dense: DenseInputs): tf.Scalar {
  const B = batch.implicit.shape[0];
  const q = viewerVector(batch.viewers, dense.position);
  const own: ContentInputs = {
    vector: tf.slice(batch.contents.vector, [0, 0], [B, -1]),
    bias: tf.slice(batch.contents.bias, [0], [B]),
    features: tf.slice(batch.contents.features, [0, 0], [B, -1]),
  };
  const positive = pairedLogits(q, batch.viewers.context, own, batch.ownPairs, dense);
  let losses: tf.Tensor1D;
  const M = batch.contents.vector.shape[0] - B;
  if (M > 0) {
    const negatives: ContentInputs = {
      vector: tf.slice(batch.contents.vector, [B, 0], [M, -1]),
      bias: tf.slice(batch.contents.bias, [B], [M]),
      features: tf.slice(batch.contents.features, [B, 0], [M, -1]),
    };
    const negative = crossLogits(q, batch.viewers.context, negatives, batch.negativePairs, dense);
    losses = sampledSoftmaxLoss(positive, negative, batch.excluded);
  } else losses = tf.zerosLike(positive);
  const z = calibrated(positive, dense.calibration);
  const bce = tf.sub(tf.softplus(z), tf.mul(batch.label, z)); // -log σ(z) for 1, -log(1-σ(z)) for 0
  const perExample = tf.add(tf.mul(batch.implicit, losses), tf.mul(tf.sub(1, batch.implicit), bce));
  // Keep every dense input on the tape (×0) so tf.grads returns a gradient for each, even when a
  // batch has no labelled rows or no pair features.
  const anchor = tf.mul(0, tf.add(tf.sum(dense.pair), tf.sum(dense.calibration)));
  return tf.add(tf.div(tf.sum(tf.mul(perExample, batch.weight)), tf.sum(batch.weight)), anchor) as tf.Scalar;
}
