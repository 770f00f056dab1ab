/** Runs once before the whole suite (jest `globalSetup`). */
export default function globalSetup(): void {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) {
    // Printed once here instead of by every AWS SDK client in every test file.
    console.log(`\nNode ${process.version}: supported for development, but Node 22 or 24 is recommended ` +
      '(AWS SDK releases after January 2027 need Node 22; Lambda runs the handlers on Node 24).');
  }
}
