import { startServer } from './server/bootstrap.ts';

// `npm start` and the sabre-server bin land here: redis-server's arguments.
startServer(process.argv.slice(2));
