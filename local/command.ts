/** The command line from the sources, for this repository: `npm run local -- <Stack>` (projen task `local`). */
import { main } from './cli';

main();
