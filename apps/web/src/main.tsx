// Starts the app and registers the service worker that keeps it usable with no network.
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import './styles.css';

createRoot(document.getElementById('root')!).render(<App />);

// Not under the Vite dev server (import.meta.hot), where a cached shell would hide code changes. Not
// import.meta.env.PROD: a build started from a test run inherits NODE_ENV=test and would leave it false.
if ('serviceWorker' in navigator && !import.meta.hot) {
  navigator.serviceWorker.register('/sw.js').catch((err: unknown) => console.warn('Offline support unavailable:', err));
}
