// The API token: kept in sessionStorage (gone when the tab closes), never put in a URL.
import { useCallback, useState } from "react";
import { setClientToken } from "./api/client";

const KEY = "headroom.token";

function readStored(): string | null {
  try {
    return window.sessionStorage.getItem(KEY);
  } catch {
    return null; // storage disabled: the token lives only as long as the page
  }
}

export interface Auth {
  token: string | null;
  /** Why the person was signed out (an expired or revoked token), shown on the sign-in form. */
  notice: string | null;
  signIn: (token: string) => void;
  signOut: (notice?: string) => void;
}

export function useAuth(): Auth {
  const [token, setToken] = useState<string | null>(() => {
    const stored = readStored();
    setClientToken(stored);
    return stored;
  });
  const [notice, setNotice] = useState<string | null>(null);

  const signIn = useCallback((next: string) => {
    try {
      window.sessionStorage.setItem(KEY, next);
    } catch {
      /* storage disabled: keep it in memory only */
    }
    setClientToken(next);
    setNotice(null);
    setToken(next);
  }, []);

  const signOut = useCallback((why?: string) => {
    try {
      window.sessionStorage.removeItem(KEY);
    } catch {
      /* nothing stored */
    }
    setClientToken(null);
    setNotice(why ?? null);
    setToken(null);
  }, []);

  return { token, notice, signIn, signOut };
}
