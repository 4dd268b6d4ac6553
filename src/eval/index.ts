/** `cnn-zoo/eval`: Top-1/Top-5 on labelled folders, profiling, result merging and reports. */
export { openDataset, parseLabels, type ImageDataset, type DatasetItem, type DatasetProblem, type OpenDatasetOptions } from './dataset.js';
export { evaluate, type EvaluateOptions, type EvalResult, type EvalProgress, type FailedImage } from './evaluate.js';
export { topK, AccuracyMeter, type AccuracySummary, type ClassAccuracy } from './topk.js';
export { profileModel, profileOnnxRuntime, type ProfileResult, type ProfileOptions, type LatencyPoint, type KernelProfile } from './profile.js';
export { mergeResults, bestUnderBudget, type ModelRow, type BudgetPick } from './results.js';
export { resultsCsv, latencyCsv, markdownReport } from './report.js';
export { accuracyVsFlopsSvg, latencyVsBatchSvg } from './svg.js';
