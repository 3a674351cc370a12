// The tray icon, embedded so the tray works from any build layout; a 32×32 ring.
import { nativeImage } from 'electron';

export const trayIcon = () => nativeImage.createFromDataURL('data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAYAAABzenr0AAAAjElEQVR42u2Xyw3AMAhDGacjdtjuQgeolGJwghv14BugRxR+dpyXdcq+COAvmgbgoGgAXlQJwElKAThZEIBPUgig8qSwLxqEUTFDAFp9R2NFnbKdDgJAs8/YPOyz2dNsM0HRCvkB9gNY/gmXlWF7I5Joxe3DSGIcty8kEiuZxFIqsZZLHCYyp9me1/ENcqS6nguZDuQAAAAASUVORK5CYII=');
