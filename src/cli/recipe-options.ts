/**
 * The `train` flags that choose the optimizer and the learning-rate
 * schedule. Their defaults and names live in the addon and are shown in
 * help when it loads (see addon-help.ts); train-flags.ts checks them.
 * @module
 */
import { type Command, Option } from 'commander'
import { FIT_DEFAULTS, fitDefaultsFor } from '../options.js'
import { nativeBinding } from '../native.js'
import { choicesFromAddon, defaultFromAddon, defaultTextFromAddon } from './addon-help.js'

/** Adds the optimizer and schedule flags to `command`; returns it. */
export function addRecipeOptions(command: Command): Command {
  const adam = (): ReturnType<typeof fitDefaultsFor> => fitDefaultsFor('adam')
  const schedules = (): ReturnType<ReturnType<typeof nativeBinding>['scheduleDefaults']> => nativeBinding().scheduleDefaults()
  const options = [
    choicesFromAddon(
      defaultFromAddon(new Option('--optimizer <name>', 'sgd, adam or adamw, as torch.optim computes them'), () => FIT_DEFAULTS.optimizer),
      () => nativeBinding().fitChoices().optimizers,
    ),
    defaultTextFromAddon(new Option('--lr <rate>', 'learning rate'), () => `${FIT_DEFAULTS.lr}; ${adam().lr} with adam and adamw`),
    defaultFromAddon(new Option('--momentum <m>', 'sgd: momentum, in [0, 1)'), () => FIT_DEFAULTS.momentum),
    new Option('--nesterov', 'sgd: Nesterov momentum (needs a momentum > 0)'),
    defaultTextFromAddon(
      new Option('--weight-decay <λ>', 'L2 penalty added to the gradient (sgd, adam); decoupled weight decay (adamw)'),
      () => `${FIT_DEFAULTS.weightDecay}; ${fitDefaultsFor('adamw').weightDecay} with adamw`,
    ),
    defaultFromAddon(new Option('--beta1 <b>', 'adam, adamw: decay of the gradient mean'), () => adam().beta1),
    defaultFromAddon(new Option('--beta2 <b>', 'adam, adamw: decay of the squared gradient mean'), () => adam().beta2),
    defaultFromAddon(new Option('--eps <ε>', 'adam, adamw: added to the denominator'), () => adam().eps),
    choicesFromAddon(
      defaultFromAddon(new Option('--schedule <name>', 'learning-rate schedule, stepped every batch'), () => FIT_DEFAULTS.schedule),
      () => nativeBinding().fitChoices().schedules,
    ),
    defaultFromAddon(new Option('--step-epochs <n>', 'step schedule: epochs between decays'), () => schedules().stepEpochs),
    defaultFromAddon(new Option('--step-gamma <γ>', 'step schedule: factor of each decay'), () => schedules().stepGamma),
    defaultFromAddon(new Option('--warmup-epochs <n>', 'epochs of linear warm-up before the schedule'), () => FIT_DEFAULTS.warmupEpochs),
    defaultFromAddon(
      new Option('--warmup-start-factor <f>', 'with --warmup-epochs: the warm-up starts at this fraction of the lr'),
      () => schedules().warmupStartFactor,
    ),
  ]
  for (const option of options) command.addOption(option)
  return command
}
