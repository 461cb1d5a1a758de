/**
 * The WebGPU backend (@tensorflow/tfjs-backend-webgpu) on Dawn from the `webgpu` npm package, which
 * ships its native binary, so a GPU trains with nothing to download. It ships every gradient kernel
 * Hallmark registers on wasm (Conv2DBackpropInput/Filter, Max/AvgPoolGrad, depthwise), so no custom
 * kernel is needed there. `auto` takes it only for a hardware adapter.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

interface AdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}
interface Adapter {
  info?: AdapterInfo;
  isFallbackAdapter?: boolean;
}
interface Gpu {
  requestAdapter(options?: object): Promise<Adapter | null>;
}

let gpu: Gpu | undefined;

/** Dawn's Linux backend is Vulkan: without the loader library no adapter can exist (and Dawn warns on stderr). */
export function vulkanLoaderPresent(env: NodeJS.ProcessEnv = process.env): boolean {
  if (process.platform !== 'linux') return true;
  const dirs = [
    ...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu',
    '/usr/lib64', '/usr/lib', '/lib64', '/lib', '/usr/local/lib',
  ];
  return dirs.some((d) => existsSync(path.join(d, 'libvulkan.so.1')));
}

async function navigatorGpu(): Promise<Gpu> {
  if (gpu) return gpu;
  const { create, globals } = (await import('webgpu')) as unknown as { create: (o: string[]) => Gpu; globals: object };
  // tfjs-backend-webgpu reads navigator.gpu and the GPU* constants (GPUBufferUsage, ...) from globalThis.
  for (const [k, v] of Object.entries(globals)) if (!(k in globalThis)) Object.defineProperty(globalThis, k, { value: v, configurable: true, writable: true });
  gpu = create([]);
  const g = globalThis as { navigator?: { gpu?: Gpu } };
  if (g.navigator === undefined) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  else if (g.navigator.gpu === undefined) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  return gpu;
}

/**
 * Activates tfjs's 'webgpu' backend; throws with one readable line when there is no adapter, or
 * (for `auto`, `hardwareOnly`) when the only adapter is a software one.
 */
export async function activateWebgpu(hardwareOnly: boolean): Promise<{ name: 'webgpu'; detail: string }> {
  if (!vulkanLoaderPresent()) {
    throw new Error('no WebGPU adapter: Dawn needs the Vulkan loader (libvulkan.so.1) and a GPU driver on Linux, and this machine has no loader');
  }
  const adapter = await (await navigatorGpu()).requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('no WebGPU adapter: Dawn found no GPU on this machine');
  const info = adapter.info ?? {};
  const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unknown adapter';
  if (hardwareOnly && adapter.isFallbackAdapter) throw new Error(`the only WebGPU adapter is a software one (${name}), slower than wasm`);
  await import('@tensorflow/tfjs-backend-webgpu');
  const version_webgpu = (createRequire(import.meta.url)('@tensorflow/tfjs-backend-webgpu/package.json') as { version: string }).version;
  if (!(await tf.setBackend('webgpu'))) throw new Error(`tf.setBackend("webgpu") returned false on adapter ${name}`);
  return { name: 'webgpu', detail: `webgpu (tfjs-backend-webgpu ${version_webgpu}, Dawn, ${name})` };
}
