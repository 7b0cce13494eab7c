// Starts the app and registers the service worker that keeps it usable with no network.
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import './styles.css';

createRoot(document.getElementById('root')!).render(<App />);

if ('serviceWorker' in navigator && import.meta.env.PROD) {
  navigator.serviceWorker.register('/sw.js').catch((err: unknown) => console.warn('Offline support unavailable:', err));
}
