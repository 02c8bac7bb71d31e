// The collector's configuration as a command-line tool reads it: a bad variable
// is said (naming it) and the tool exits 78, as the collector does.
import { ConfigError, loadConfig, type Config } from '../config.js';

/** The configuration, or null once `say` has been told what is wrong with it (exit 78). */
export function loadCliConfig(say: (text: string) => void): Config | null {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      say(`${err.message}\n`);
      return null;
    }
    throw err;
  }
}
