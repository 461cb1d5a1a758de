// Top-level command name -> the modules (and their register functions) that define it, in help order.
import type { Command } from 'commander';

export type Register = (program: Command) => void;

export const COMMANDS: [name: string, loaders: (() => Promise<Register>)[]][] = [
  ['init', [async () => (await import('./commands/init.js')).registerInit]],
  ['ledger', [async () => (await import('./commands/ledger.js')).registerLedger, async () => (await import('./commands/timestamp.js')).registerTimestamp, async () => (await import('./commands/ledger-tiles.js')).registerLedgerTiles, async () => (await import('./commands/ledger-publish.js')).registerLedgerPublish, async () => (await import('./commands/ledger-publish.js')).registerLedgerProof]],
  ['dataset', [async () => (await import('./commands/dataset.js')).registerDatasetCommands]],
  ['model', [async () => (await import('./commands/model.js')).registerModelCommands, async () => (await import('./commands/model-sign.js')).registerModelSign]],
  ['lineage', [async () => (await import('./commands/lineage.js')).registerLineage]],
  ['embed', [async () => (await import('./commands/embed.js')).registerEmbed]],
  ['verify', [async () => (await import('./commands/verify.js')).registerVerify]],
  ['fingerprint', [async () => (await import('./commands/fingerprint.js')).registerFingerprint]],
  ['calibrate', [async () => (await import('./commands/calibrate.js')).registerCalibrate]],
  ['attack', [async () => (await import('./commands/attack.js')).registerAttack]],
  ['provenance', [async () => (await import('./commands/provenance.js')).registerProvenance]],
  ['evidence', [async () => (await import('./commands/evidence.js')).registerEvidence]],
  ['dispute', [async () => (await import('./commands/dispute.js')).registerDispute]],
  ['keys', [async () => (await import('./commands/keys.js')).registerKeys]],
  ['witness', [async () => (await import('./commands/witness.js')).registerWitness]],
  ['home', [async () => (await import('./commands/home.js')).registerHome]],
  ['guard', [async () => (await import('./commands/guard.js')).registerGuard]],
  ['serve', [async () => (await import('./commands/serve.js')).registerServe]],
  ['demo', [async () => (await import('./commands/demo.js')).registerDemo]],
  ['version', [async () => (await import('./commands/version.js')).registerVersion]],
  ['completion', [async () => (await import('./commands/completion.js')).registerCompletion]],
];
