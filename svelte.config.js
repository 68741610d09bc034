import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
  preprocess: vitePreprocess(),
  kit: {
    // Both directories can be moved by env so parallel builds (several test runs at once) do not collide.
    adapter: adapter({ out: process.env.BUILD_DIR ?? 'build' }),
    outDir: process.env.SVELTEKIT_OUT ?? '.svelte-kit',
    alias: { $db: 'db' }
  }
};

export default config;
