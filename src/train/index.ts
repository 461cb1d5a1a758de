export { BACKEND_CHOICES, selectBackend, type BackendChoice, type SelectedBackend } from './backend.js';
export { TrainError, type TrainErrorCode } from './errors.js';
export { evaluateAccuracy, predictClasses, predictScores } from './evaluate.js';
export { softenScores } from './soft-targets.js';
export { fitModel, type FitOptions, type FitProgress, type FitResult, type LabelledImages, type StepContext } from './fit.js';
export { recordedInitialisers, seededInitialisers } from './initialisers.js';
export { buildMnistCnn } from './mnist-cnn.js';
export { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from './wasm-kernels.js';
export { closeTrainingWorkers, prewarmTrainingWorkers } from './worker-pool.js';
