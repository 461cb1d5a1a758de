// Fidelity: how much a change to a model's weights changes its answers, measured by running the
// original and the changed model on the same calibration inputs (onnxruntime-node, TF.js), and the
// layer-input statistics that let the training-free mark avoid the directions a layer uses.
export { FidelityError, type FidelityErrorCode } from './errors.js';
export { openRunner, type ModelRunner, type InputSpec, type Feed, type Output, type Activation } from './runner.js';
export { calibrationBatches, type CalibrationOptions, type CalibrationImages } from './calibration.js';
export { measureFidelity, checkFidelityLimits, type FidelityReport, type FidelityLimits, type OutputFidelity } from './measure.js';
export { layerInputMoment } from './activations.js';
