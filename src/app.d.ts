import type { User } from '$lib/server/repositories/users.repo';

declare global {
  namespace App {
    interface Locals {
      user: User | null;
    }
    interface Error {
      message: string;
    }
  }
}

export {};
