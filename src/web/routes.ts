/** Ways to recognise a caller besides API tokens (the web app adds session cookies). */
import type { PrincipalResolver } from './auth.ts';
import { sessionResolver } from './session-auth.ts';

export const PRINCIPAL_RESOLVERS: PrincipalResolver[] = [sessionResolver];
