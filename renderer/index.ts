// Placeholder until the React UI lands: renderer/ is DOM-only.
document.title = 'Tunnelvision';
