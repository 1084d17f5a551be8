import { useEffect } from "react";

/** "Leads · leadloop": each page names itself in the tab and for screen readers (WCAG 2.4.2). */
export function useDocumentTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · leadloop`;
  }, [title]);
}
