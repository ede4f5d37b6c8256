// Runs before a workspace package is packed or published (its `prepack` script, then tsup builds
// dist/). Only pnpm makes a working tarball of a package of this workspace: it swaps in
// publishConfig (the dist/ entry points) and rewrites `workspace:*` to real versions. npm does
// neither, and its tarball would point at src/*.ts and name versions no registry has, so npm is
// refused here with the command to use instead.
const agent = process.env.npm_config_user_agent ?? ''
if (!agent.startsWith('pnpm/')) {
  const name = process.env.npm_package_name ?? 'this package'
  process.stderr.write(
    `${name}: pack it with pnpm, not ${agent.split(' ')[0] || 'this tool'}: npm ignores publishConfig and keeps workspace: versions.\n` +
      `  From the repository root: pnpm pack:packages   (both tarballs in dist/packages/)\n`,
  )
  process.exit(1)
}
