// Reference dlib face descriptors from @vladmandic/face-api 1.7.15 (its own
// network code and preprocessing) on TF.js 4.22.0's CPU backend, for the Go
// port's test (metrics/dlib_test.go). Faces: the first photograph of ORL's
// people s1..s8, 92x112 grey PGM, each value b taken as fround(b/255) (the
// Go loader's float32 pixel) and given to face-api as fround(v*255) on all
// three channels.
//
//   npm pack @vladmandic/face-api@1.7.15 && tar xzf vladmandic-face-api-1.7.15.tgz
//   npm install @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0
//   node reference.cjs package ../../../../shared/data/orl_att > reference.json
const fs = require('fs');
const path = require('path');
const [pkg, orl] = process.argv.slice(2);
const faceapi = require(path.resolve(pkg, 'dist/face-api.node-wasm.js'));
const tf = faceapi.tf;

function readPGM(file) {
  const b = fs.readFileSync(file);
  const header = 'P5\n92 112\n255\n';
  if (b.subarray(0, header.length).toString('latin1') !== header || b.length !== header.length + 92 * 112) {
    throw new Error(`${file}: not a 92x112 8-bit PGM`);
  }
  return { w: 92, h: 112, px: b.subarray(header.length) };
}

(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  const model = path.resolve(pkg, 'model');
  const manifest = JSON.parse(fs.readFileSync(path.join(model, 'face_recognition_model-weights_manifest.json')));
  const bin = fs.readFileSync(path.join(model, 'face_recognition_model.bin'));
  const weights = tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength), manifest[0].weights);
  const net = new faceapi.FaceRecognitionNet();
  net.loadFromWeightMap(weights);
  const faces = [];
  const descriptors = [];
  for (let s = 1; s <= 8; s++) {
    const name = `s${s}/1.pgm`;
    const { w, h, px } = readPGM(path.join(orl, name));
    const rgb = new Float32Array(w * h * 3);
    for (let i = 0; i < w * h; i++) {
      const v = Math.fround(Math.fround(px[i] / 255) * 255);
      rgb[3 * i] = v; rgb[3 * i + 1] = v; rgb[3 * i + 2] = v;
    }
    const d = await net.computeFaceDescriptor(tf.tensor4d(rgb, [1, h, w, 3]));
    faces.push(name);
    descriptors.push(Array.from(d));
  }
  process.stdout.write(JSON.stringify({ face_api: '1.7.15', tfjs: tf.version.tfjs, backend: tf.getBackend(), faces, descriptors }, null, 1) + '\n');
})();
