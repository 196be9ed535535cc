import { ApolloProvider } from '@apollo/client/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { createApiClient } from './client';
import { loadConfig } from './config';
import './style.css';

const config = await loadConfig();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ApolloProvider client={createApiClient(config)}>
      <App />
    </ApolloProvider>
  </StrictMode>,
);
