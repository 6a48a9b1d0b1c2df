/**
 * The flags of a folder of images (`--test-split`, `--split-seed`,
 * `--channels`, `--size HxW`, `--strict`), made from the core's `folder`
 * options and read back into {@link FolderSettings}.
 * @module
 */
import { type Command, Option } from 'commander'
import { checkOptions, isOptionError, optionsOf } from '../options.js'
import type { FolderSettings } from '../types.js'
import type { RawFlags } from './flags.js'
import { schemaFlags, schemaOption } from './schema-flags.js'
import { UsageError } from './usage-error.js'

/** The folder options that are flags of their own; height and width are `--size`. */
const OWN_FLAGS = optionsOf('folder').filter((s) => s.name !== 'height' && s.name !== 'width')

/** Adds the folder flags to `command`; returns it. */
export function addFolderOptions(command: Command): Command {
  for (const spec of OWN_FLAGS) command.addOption(schemaOption(spec))
  return command.addOption(new Option('--size <HxW>', 'for a folder of images: the size every image is resized to (default: the most common size)'))
}

/**
 * The folder flags given, checked by the core.
 * @throws UsageError naming the first bad flag
 */
export function folderFlags(raw: RawFlags): FolderSettings {
  const settings = schemaFlags(raw, 'folder') as FolderSettings
  if (raw.size === undefined) return settings
  const match = typeof raw.size === 'string' ? /^(\d+)x(\d+)$/i.exec(raw.size) : null
  if (match === null) throw new UsageError(`--size must be HEIGHTxWIDTH, e.g. 32x32 (got ${String(raw.size)})`)
  const size = { height: Number(match[1]), width: Number(match[2]) }
  try {
    checkOptions('folder', size)
  } catch (error) {
    if (isOptionError(error)) throw new UsageError(`--size ${error.option} ${error.rule} (got ${raw.size})`)
    throw error
  }
  return { ...settings, ...size }
}
