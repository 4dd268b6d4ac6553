/**
 * API wording -> CLI wording for error messages the CLI prints: the library's errors name its options
 * (`weights: null`, `load('x', { weights: ... })`); on the command line the same advice is a flag.
 * One table, applied in order.
 */
const RULES: readonly [RegExp, string | ((...m: string[]) => string)][] = [
  // "--flag / { option }" and "--flag / load(...)" (or another call) pairs: keep the flag.
  [/ \/ (?:\{[^{}]*\}|[\w.]+\([^()]*\))/g, ''],
  [/ \(useBackend\(NAME\)\)/g, ' (--backend NAME)'],
  // "(CLI: --x; more)" -> "(more)"; "(CLI: --x)" -> "" (the API wording around it is translated below).
  [/\(CLI: [^;()]*; /g, '('],
  [/ ?\(CLI: [^;()]*\)/g, ''],
  // load('x', { weights: W }) -> --model x --weights W; load(NAME, ...) too.
  [/load\((['"]?)([^'",()]+)\1, \{ weights: (['"]?)([^'"{}]+?)\3 \}\)/g, '--model $2 --weights $4'],
  [/load\((['"])([\w.-]+)\1\)/g, '--model $2'],
  [/\bweights: null\b/g, '--weights random'],
  [/\bweights: (['"])([^'"]+)\1/g, '--weights $2'],
  [/\bweights: ([A-Z]+)\b/g, '--weights $1'],
  [/\binputSize: (\d+)/g, '--input-size $1'],
  [/\bvalidationSplit: ([\d.]+)/g, '--validation-split $1'],
  [/\bGive validationData\b/g, 'Give --validation-data'],
  [/\bvalidationData: '([^']+)'/g, '--validation-data $1'],
  [/ \(listed in history\.skipped\), pass skipUnreadable: true\./g, ' (listed at the end), add --skip-unreadable.'],
  [/^[\w.-]+\.fit\(\): fineTune (\d+) is more than/g, '--fine-tune $1 is more than'],
  [/\(fineTune, --fine-tune\)/g, '(--fine-tune)'],
  [/\(fineTune 0, or leave out --fine-tune\)/g, '(leave out --fine-tune)'],
  [/\bglobalPool: true\b/g, '--global-pool'],
  [/\bglobalPool only applies\b/g, '--global-pool only applies'],
  [/\bDrop globalPool\./g, 'Drop --global-pool.'],
  [/\bruntime: '(\w+)'/g, '--runtime $1'],
  [/\(cacheDir\)/g, '(--cache)'],
  // A model without its classifier (weights saved with includeTop: false): its features are an API matter.
  [/\(built or saved with includeTop: false\)/g, '(its weights were saved without one)'],
  [/: (?:use embed\(\) or features\(\), or )?(?:load|evaluate) weights that have a classifier\./g, ': give --weights that have a classifier.'],
  [/^evaluate\(model, dataset\): the model\b/g, 'the model'],
  [/,? or includeTop: false\b/g, ''], // no CLI flag: a headless model is an API matter
  [/, or if you trust it decode it with decodeImage\(file, \{ maxPixels \}\) and pass the pixels it returns\./g, '.'],
  [/Load them as "([^"]+)" \(or give only the weights\)\./g, 'Use --model $1 (or leave the model out: the weights name it).'],
  [/\(from save\(\) or cnn-zoo convert\)/g, '(from cnn-zoo train or cnn-zoo convert)'],
  // A tfjs model that cnn-zoo did not write: running it as it is is a matter for code.
  [/; to run it as it is, tf\.loadLayersModel\./g, '.'],
  [/: run it with tf\.loadGraphModel, or convert /g, ': convert '],
  [/, 'imagenet', or null for random ones; an image goes to model\.classify\(image\)\./g, ', imagenet or random; images go after the command: cnn-zoo classify IMAGE... --weights W.'],
  [/\(a folder with model\.json, from save\(\) or cnn-zoo convert\)/g, '(a folder with model.json, from cnn-zoo train or cnn-zoo convert)'],
  [/Give the full path \(path\.join\(os\.homedir\(\), \.\.\.\)\)\./g, 'Give the full path, or ~ unquoted at the start of an argument.'],
  [/ \(~ is your home folder only in a shell: give the full path, or os\.homedir\(\)\)/g, ' (~ is your home folder only where the shell expands it: unquoted, at the start of an argument)'],
];

/** `message` as the CLI says it. */
export function cliWording(message: string): string {
  return RULES.reduce((m, [re, to]) => m.replace(re, to as string), message);
}
