/* The live page: ClaDec in the reader's browser.
 *
 * onnxruntime-web (pinned, copied into live/ort/ by the docs build) runs the
 * models exported from the shipped weights (live/models/): the classifier
 * (the layer's code and the class scores), the RefAE, and one ClaDec decoder
 * per alpha. Every stroke re-runs all of them, so the alpha slider only swaps
 * pictures. window.cladecLive exposes the state the browser tests read back.
 */
(function () {
  "use strict";
  const root = document.getElementById("cladec-live");
  if (!root) return;
  const base = root.dataset.base || "live/";
  const SIDE = 28;
  const BOX = 20; // MNIST's digits fill a 20 x 20 box, centred by mass in 28 x 28
  const INK = 25; // a canvas pixel brighter than this (of 255) is ink
  const MAX_INK = 0.6; // beyond this share of the canvas, it is no digit any more
  const find = (selector) => root.querySelector(selector);
  const message = find(".live-message");
  const canvas = find(".live-canvas");
  const pen = canvas.getContext("2d", { willReadFrequently: true });
  const slider = find(".live-alpha");
  const state = {
    dataset: null, source: null, exampleIndex: null, input: null, scores: null,
    refae: null, cladec: {}, alpha: null, updates: 0, latencies: [],
    firstResultMs: null, bytesAtFirstResult: null, message: "",
  };
  const api = (window.cladecLive = { state, ready: null });
  let config = null;
  const loaded = {};

  function say(text, kind) {
    state.message = text || "";
    message.textContent = state.message;
    message.dataset.kind = kind || "info";
    message.hidden = !text;
  }

  function stop(text) {
    say(text, "error");
    root.classList.add("live-off");
    api.ready = Promise.resolve(false);
  }

  if (location.protocol === "file:") {
    stop("This page runs the models in your browser, and browsers do not let a page " +
         "opened from disk load them. Serve the site: run `python -m http.server` in " +
         "the site's folder (or `nox -s serve` in a clone) and open " +
         "http://localhost:8000/live.html.");
    return;
  }
  if (typeof WebAssembly !== "object" || typeof WebAssembly.instantiate !== "function") {
    stop("This browser has no WebAssembly (or it is switched off), which the page needs " +
         "to run the models. The tutorials show the same models' pictures.");
    return;
  }
  if (typeof ort === "undefined") {
    stop("The runtime (live/ort/ort.wasm.min.js) did not load; rebuild the site.");
    return;
  }

  async function bytesOf(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  }

  async function wasmBinary() {
    const wasm = `${base}ort/ort-wasm-simd-threaded.wasm`;
    if (typeof DecompressionStream !== "function") return bytesOf(wasm);
    const response = await fetch(`${wasm}.gz`);
    if (!response.ok) return bytesOf(wasm);
    const unpacked = response.body.pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(unpacked).arrayBuffer());
  }

  async function startRuntime() {
    const response = await fetch(`${base}config.json`);
    if (!response.ok) throw new Error(`${base}config.json: HTTP ${response.status}`);
    config = await response.json();
    // A static site is not cross-origin isolated: one thread, no worker proxy.
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.wasm.wasmPaths = new URL(`${base}ort/`, document.baseURI).href;
    ort.env.wasm.wasmBinary = await wasmBinary();
  }

  async function session(dataset, file) {
    const model = await bytesOf(`${base}models/${dataset}/${file}`);
    return ort.InferenceSession.create(model, { executionProviders: ["wasm"] });
  }

  function loadDataset(dataset) {
    if (!loaded[dataset]) {
      loaded[dataset] = (async () => {
        const names = ["classifier.onnx", "refae.onnx", ...config.decoders.map((d) => d.file)];
        const made = await Promise.all(names.map((name) => session(dataset, name)));
        const examples = await (await fetch(`${base}models/${dataset}/examples.json`)).json();
        return { sessions: Object.fromEntries(names.map((n, i) => [n, made[i]])), examples };
      })();
    }
    return loaded[dataset];
  }

  async function run(models, dataset, name, data, dims) {
    const file = config.datasets[dataset].files[name];
    const out = await models.sessions[name].run({ [file.input]: new ort.Tensor("float32", data, dims) });
    return file.outputs.map((output) => out[output]);
  }

  async function infer(dataset, input) {
    const models = await loadDataset(dataset);
    const image = [1, SIDE, SIDE, 1];
    const [code, scores] = await run(models, dataset, "classifier.onnx", input, image);
    const [refae] = await run(models, dataset, "refae.onnx", input, image);
    const cladec = {};
    for (const decoder of config.decoders) {
      const [rebuilt] = await run(models, dataset, decoder.file, code.data, code.dims);
      cladec[decoder.alpha] = Array.from(rebuilt.data);
    }
    return { scores: Array.from(scores.data), refae: Array.from(refae.data), cladec };
  }

  // ---- pictures --------------------------------------------------------
  function paintGrey(target, pixels) {
    const context = target.getContext("2d");
    const image = context.createImageData(SIDE, SIDE);
    for (let i = 0; i < SIDE * SIDE; i += 1) {
      const v = Math.round(255 * Math.min(1, Math.max(0, pixels[i])));
      image.data.set([v, v, v, 255], 4 * i);
    }
    context.putImageData(image, 0, 0);
  }

  function paintDifference(target, difference, limit) {
    const scale = config.colour_scale;
    const context = target.getContext("2d");
    const image = context.createImageData(SIDE, SIDE);
    for (let i = 0; i < SIDE * SIDE; i += 1) {
      const t = Math.min(1, Math.max(0, (difference[i] / limit + 1) / 2));
      const hex = scale[Math.round(t * (scale.length - 1))];
      image.data.set([1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16)).concat(255), 4 * i);
    }
    context.putImageData(image, 0, 0);
  }

  function shownAlpha() {
    return config.decoders[Number(slider.value)].alpha;
  }

  function render() {
    if (!config) return;
    const alpha = shownAlpha();
    state.alpha = alpha;
    find(".live-alpha-value").textContent = String(alpha);
    find(".live-cladec-title").textContent = `ClaDec, alpha ${alpha}`;
    if (!state.scores) return;
    paintGrey(find(".live-input"), state.input);
    paintGrey(find(".live-refae"), state.refae);
    const rebuilt = state.cladec[alpha];
    paintGrey(find(".live-cladec"), rebuilt);
    const difference = rebuilt.map((v, i) => v - state.refae[i]);
    const limit = Math.max(1e-3, ...difference.map(Math.abs));
    paintDifference(find(".live-difference"), difference, limit);
    find(".live-limit").textContent = `scale \u00b1${limit.toFixed(2)}: red = ClaDec brighter, blue = RefAE brighter`;
    renderScores();
  }

  function renderScores() {
    const names = config.datasets[state.dataset].class_names;
    const best = state.scores.indexOf(Math.max(...state.scores));
    const rows = find(".live-scores");
    rows.replaceChildren(...state.scores.map((score, k) => {
      const row = document.createElement("div");
      row.className = k === best ? "live-score live-best" : "live-score";
      const bar = document.createElement("span");
      bar.className = "live-bar";
      bar.style.width = `${(100 * score).toFixed(1)}%`;
      row.append(Object.assign(document.createElement("span"), { className: "live-class", textContent: names[k] }));
      row.append(Object.assign(document.createElement("span"), { className: "live-track" }));
      row.lastChild.append(bar);
      row.append(Object.assign(document.createElement("span"), { className: "live-value", textContent: score.toFixed(3) }));
      return row;
    }));
  }

  async function show(input, since) {
    const dataset = state.dataset;
    const result = await infer(dataset, input);
    if (dataset !== state.dataset) return;
    Object.assign(state, result, { input: Array.from(input) });
    render();
    state.updates += 1;
    state.latencies.push(performance.now() - since);
    if (state.latencies.length > 500) state.latencies.shift();
    root.classList.remove("live-stale");
    if (state.firstResultMs === null) {
      state.firstResultMs = performance.now();
      const entries = [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")];
      state.bytesAtFirstResult = entries.reduce((sum, e) => sum + (e.encodedBodySize || 0), 0);
    }
  }

  // ---- drawing ---------------------------------------------------------
  function clearCanvas() {
    pen.fillStyle = "#000";
    pen.fillRect(0, 0, canvas.width, canvas.height);
  }

  function canvasInput() {
    const { width, height } = canvas;
    const pixels = pen.getImageData(0, 0, width, height).data;
    let left = width, top = height, right = -1, bottom = -1, inked = 0;
    for (let y = 0; y < height; y += 1) {
      for (let x = 0; x < width; x += 1) {
        if (pixels[4 * (y * width + x)] > INK) {
          inked += 1;
          left = Math.min(left, x); right = Math.max(right, x);
          top = Math.min(top, y); bottom = Math.max(bottom, y);
        }
      }
    }
    if (right < 0) return { problem: "The canvas is empty: draw a digit (mouse, finger or pen), or pick a test image below." };
    const share = inked / (width * height);
    if (share > MAX_INK) {
      return { problem: `The canvas is ${Math.round(100 * share)} % ink; a digit covers about a fifth of its image. Clear it and draw one digit.` };
    }
    const side = Math.max(right - left + 1, bottom - top + 1);
    const box = document.createElement("canvas");
    box.width = box.height = BOX;
    const small = box.getContext("2d", { willReadFrequently: true });
    small.fillStyle = "#000";
    small.fillRect(0, 0, BOX, BOX);
    small.imageSmoothingEnabled = true;
    small.imageSmoothingQuality = "high";
    const cx = (left + right + 1) / 2, cy = (top + bottom + 1) / 2;
    small.drawImage(canvas, cx - side / 2, cy - side / 2, side, side, 0, 0, BOX, BOX);
    const grey = small.getImageData(0, 0, BOX, BOX).data;
    let mass = 0, mx = 0, my = 0;
    const values = new Float32Array(BOX * BOX);
    for (let i = 0; i < BOX * BOX; i += 1) {
      values[i] = grey[4 * i] / 255;
      mass += values[i]; mx += values[i] * ((i % BOX) + 0.5); my += values[i] * (Math.floor(i / BOX) + 0.5);
    }
    const shift = (centre) => Math.min(SIDE - BOX, Math.max(0, Math.round(SIDE / 2 - centre)));
    const ox = shift(mx / mass), oy = shift(my / mass);
    const input = new Float32Array(SIDE * SIDE);
    for (let i = 0; i < BOX * BOX; i += 1) {
      input[(oy + Math.floor(i / BOX)) * SIDE + ox + (i % BOX)] = values[i];
    }
    return { input };
  }

  let strokeSince = null;
  let updating = false;

  async function updateFromCanvas() {
    if (updating) return;
    updating = true;
    try {
      while (strokeSince !== null) {
        const since = strokeSince;
        strokeSince = null;
        const { input, problem } = canvasInput();
        if (problem) {
          say(problem, "warning");
          root.classList.add("live-stale");
          continue;
        }
        say("");
        state.source = "drawing";
        state.exampleIndex = null;
        await show(input, since);
      }
    } catch (error) {
      say(`The models failed on this input: ${error.message}`, "error");
    } finally {
      updating = false;
    }
  }

  function stroke(time) {
    if (strokeSince === null) strokeSince = time;
    updateFromCanvas();
  }

  let last = null;
  function point(event) {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width, (event.clientY - box.top) * canvas.height / box.height];
  }
  function line(from, to) {
    pen.strokeStyle = "#fff";
    pen.lineWidth = canvas.width / 13; // a stroke as thick, for its digit, as MNIST's
    pen.lineCap = pen.lineJoin = "round";
    pen.beginPath();
    pen.moveTo(...from);
    pen.lineTo(...to);
    pen.stroke();
  }
  canvas.addEventListener("pointerdown", (event) => {
    if (root.classList.contains("live-locked") || !config) return;
    canvas.setPointerCapture(event.pointerId);
    last = point(event);
    line(last, last);
    stroke(event.timeStamp);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (last === null) return;
    const next = point(event);
    line(last, next);
    last = next;
    stroke(event.timeStamp);
  });
  for (const type of ["pointerup", "pointercancel"]) canvas.addEventListener(type, () => { last = null; });

  find(".live-clear").addEventListener("click", (event) => {
    clearCanvas();
    stroke(event.timeStamp);
  });

  // ---- test images, datasets, alpha ------------------------------------
  function showExampleOnCanvas(pixels) {
    const cell = canvas.width / SIDE;
    clearCanvas();
    pixels.forEach((v, i) => {
      pen.fillStyle = `rgb(${v},${v},${v})`;
      pen.fillRect((i % SIDE) * cell, Math.floor(i / SIDE) * cell, cell, cell);
    });
  }

  async function pick(k, since) {
    const { examples } = await loadDataset(state.dataset);
    const pixels = examples.pixels[k];
    showExampleOnCanvas(pixels);
    say("");
    state.source = "example";
    state.exampleIndex = examples.index[k];
    for (const button of find(".live-examples").children) button.classList.toggle("live-picked", Number(button.dataset.k) === k);
    await show(Float32Array.from(pixels, (v) => v / 255), since);
  }

  function exampleButtons(dataset, examples) {
    const names = config.datasets[dataset].class_names;
    return examples.pixels.map((pixels, k) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "live-example";
      button.dataset.k = String(k);
      const thumb = document.createElement("canvas");
      thumb.width = thumb.height = SIDE;
      paintGrey(thumb, pixels.map((v) => v / 255));
      const label = examples.label[k], predicted = examples.predicted[k];
      const caption = label === predicted ? names[label] : `${names[label]}, read as ${names[predicted]}`;
      button.title = `test image ${examples.index[k]}: ${caption}`;
      button.append(thumb, Object.assign(document.createElement("span"), { textContent: caption }));
      if (label !== predicted) button.classList.add("live-misread");
      button.addEventListener("click", (event) => pick(k, event.timeStamp).catch((e) => say(e.message, "error")));
      return button;
    });
  }

  async function selectDataset(dataset) {
    state.dataset = dataset;
    state.scores = null;
    for (const tab of root.querySelectorAll(".live-tab")) tab.classList.toggle("live-active", tab.dataset.dataset === dataset);
    root.classList.toggle("live-locked", dataset !== "mnist");
    const megabytes = Object.values(config.datasets[dataset].files).reduce((s, f) => s + f.bytes, 0) / 1e6;
    if (!loaded[dataset]) say(`Loading ${config.datasets[dataset].title}'s models (${megabytes.toFixed(1)} MB) ...`);
    const { examples } = await loadDataset(dataset);
    find(".live-examples").replaceChildren(...exampleButtons(dataset, examples));
    find(".live-draw-note").hidden = dataset === "mnist";
    await pick(0, performance.now());
  }

  slider.max = "3";
  slider.addEventListener("input", render);

  api.ready = (async () => {
    try {
      say("Loading the runtime and MNIST's models ...");
      clearCanvas();
      await startRuntime();
      slider.max = String(config.decoders.length - 1);
      slider.value = String(config.decoders.findIndex((d) => d.alpha === config.default_alpha));
      find(".live-alpha-ticks").textContent = config.decoders.map((d) => d.alpha).join("   \u00b7   ");
      for (const tab of root.querySelectorAll(".live-tab")) {
        tab.addEventListener("click", () => selectDataset(tab.dataset.dataset).catch((e) => say(e.message, "error")));
      }
      await selectDataset("mnist");
      return true;
    } catch (error) {
      stop(`The live page could not start: ${error.message}`);
      return false;
    }
  })();
})();
