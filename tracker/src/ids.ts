// Ids the tracker reads from cookies other analytics tools set.
import Cookies from 'js-cookie';

/** `GA1.2.908899769.1600020018` -> `908899769.1600020018`; '' when absent or malformed. */
export function gaClientId(cookie: string | undefined): string {
  const m = /^GA\d\.\d+\.(\d+\.\d+)$/.exec(cookie || '');
  return m ? m[1]! : '';
}

/** Yandex Metrika's `_ym_uid`: digits only. */
export function ymUid(cookie: string | undefined): string {
  return /^\d{1,32}$/.test(cookie || '') ? cookie! : '';
}

export function readIds(): { g: string; y: string } {
  return { g: gaClientId(Cookies.get('_ga')), y: ymUid(Cookies.get('_ym_uid')) };
}
