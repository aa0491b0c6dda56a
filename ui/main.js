import { mountDesk } from "./screens/desk.js";

mountDesk(document);
